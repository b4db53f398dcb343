"""``python -m dsc.build_corpus``: raw repositories in, a clean code corpus out (PAPER.md §1).

Repositories are packed into shards; each shard runs through the per-file stages and is
written atomically with a completion marker, so a killed run resumes where it stopped and
finished shards are never redone. Runs on this machine by default and on a Ray cluster with
``--ray``. Without ``--input`` the embedded default input is the real code on this machine:
the interpreter's standard library and site-packages, each top-level package a repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dsc.atomic import write_json, write_parquet
from dsc.corpus_config import CorpusConfig, load_config
from dsc.executor import make_executor
from dsc.filters import REASONS, decode_text, filter_files
from dsc.sources import (
    Repository,
    read_repositories,
    site_packages_repositories,
    stdlib_repositories,
)


@dataclass(frozen=True)
class ShardTask:
    """One unit of work: whole repositories, and where their outputs go."""

    index: int
    repos: tuple[Repository, ...]
    out_dir: Path
    cfg: CorpusConfig

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}"

    @property
    def marker(self) -> Path:
        return self.out_dir / "_done" / f"{self.name}.json"


def repository_bytes(repo: Repository, max_file_bytes: int) -> int:
    return sum(p.stat().st_size for p in repo.files(max_file_bytes))


def plan_shards(repos: Sequence[Repository], cfg: CorpusConfig, out_dir: Path) -> list[ShardTask]:
    """Pack repositories, in order, into shards of about ``cfg.shard_bytes``."""
    shards: list[ShardTask] = []
    current: list[Repository] = []
    size = 0
    for repo in repos:
        current.append(repo)
        size += repository_bytes(repo, cfg.max_file_bytes)
        if size >= cfg.shard_bytes:
            shards.append(ShardTask(len(shards), tuple(current), out_dir, cfg))
            current, size = [], 0
    if current:
        shards.append(ShardTask(len(shards), tuple(current), out_dir, cfg))
    return shards


def run_shard(task: ShardTask) -> dict[str, object]:
    """Filter one shard; write kept files, the audit of dropped ones, then the marker."""
    raw = read_repositories(task.repos, max_file_bytes=task.cfg.max_file_bytes)
    checked = filter_files(raw.lazy(), task.cfg.filters).collect()
    kept = checked.filter("keep").select("repo", "path", "lang", content=decode_text("raw"))
    dropped = checked.filter(~pl.col("keep")).select(
        "repo", "path", "lang", "reason", n_bytes=pl.col("raw").bin.size()
    )
    write_parquet(kept, task.out_dir / "files" / f"{task.name}.parquet")
    write_parquet(dropped, task.out_dir / "dropped" / f"{task.name}.parquet")
    stats: dict[str, object] = {
        "shard": task.name,
        "repos": len(task.repos),
        "files_in": checked.height,
        "bytes_in": int(checked["raw"].bin.size().sum() or 0),
        "files_kept": kept.height,
        "bytes_kept": int(kept["content"].str.len_bytes().sum() or 0),
        "dropped_by_reason": dict(Counter(dropped["reason"].to_list())),
        "config": task.cfg.fingerprint(),
    }
    write_json(stats, task.marker)
    return stats


def finished_stats(task: ShardTask) -> dict[str, object] | None:
    """The stats of a shard finished by an earlier run with the same config, if any."""
    if not task.marker.exists():
        return None
    stats: dict[str, object] = json.loads(task.marker.read_text())
    if stats["config"] != task.cfg.fingerprint():
        raise SystemExit(
            f"{task.marker}: finished with a different config; use a new --out directory"
        )
    return stats


def summarize(all_stats: Sequence[dict[str, object]]) -> dict[str, object]:
    reasons: Counter[str] = Counter()
    for s in all_stats:
        reasons.update(s["dropped_by_reason"])  # type: ignore[arg-type]
    total = {
        key: sum(int(s[key]) for s in all_stats)  # type: ignore[call-overload]
        for key in ("repos", "files_in", "bytes_in", "files_kept", "bytes_kept")
    }
    return {"shards": len(all_stats), **total, "dropped_by_reason": dict(sorted(reasons.items()))}


def print_summary(summary: dict[str, object]) -> None:
    files_in = int(summary["files_in"])  # type: ignore[call-overload]
    print(f"shards: {summary['shards']}  repositories: {summary['repos']}")
    print(f"files in: {files_in:,}  ({int(summary['bytes_in']) / 1e6:,.1f} MB)")  # type: ignore[call-overload]
    print(
        f"files kept: {int(summary['files_kept']):,}  ({int(summary['bytes_kept']) / 1e6:,.1f} MB)"
    )  # type: ignore[call-overload]
    print("dropped by rule:")
    dropped: dict[str, int] = summary["dropped_by_reason"]  # type: ignore[assignment]
    for reason in REASONS:
        n = dropped.get(reason, 0)
        print(f"  {reason:<24}{n:>10,}  {100 * n / max(files_in, 1):6.2f} %")


def default_repositories() -> list[Repository]:
    return stdlib_repositories() + site_packages_repositories()


def directory_repositories(root: Path) -> list[Repository]:
    """Each subdirectory of ``root`` is one repository."""
    if not root.is_dir():
        raise SystemExit(f"--input {root}: not a directory")
    return [Repository(p.name, p) for p in sorted(root.iterdir()) if p.is_dir()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dsc.build_corpus", description=__doc__)
    parser.add_argument("--input", type=Path, help="directory whose subdirectories are repos")
    parser.add_argument("--out", type=Path, default=Path("out/corpus"), help="output directory")
    parser.add_argument("--config", type=Path, help="TOML file mirroring CorpusConfig")
    parser.add_argument("--ray", metavar="ADDRESS", help="run shards on a Ray cluster")
    parser.add_argument("--max-repos", type=int, help="only the first N repositories")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config) if args.config else CorpusConfig()
    repos = directory_repositories(args.input) if args.input else default_repositories()
    repos = repos[: args.max_repos] if args.max_repos else repos
    shards = plan_shards(repos, cfg, args.out)
    todo = [t for t in shards if finished_stats(t) is None]
    print(f"{len(shards)} shards planned, {len(shards) - len(todo)} already done", flush=True)
    make_executor(args.ray).map(run_shard, todo)
    summary = summarize([finished_stats(t) or {} for t in shards])
    write_json(summary, args.out / "summary.json")
    print_summary(summary)
    print(f"corpus written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
