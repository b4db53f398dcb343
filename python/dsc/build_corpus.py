"""``python -m dsc.build_corpus``: raw repositories in, a clean code corpus out.

The method is DeepSeek-Coder's (arXiv:2401.14196, §2: its stages 1-5 below).

Phase 1 runs shard by shard, each shard whole repositories: the rule-based filters
(stage 1), syntax and quality screening (stage 4) and decontamination (stage 5) on each
file, then the import-ordered repository samples (stage 2). Phase 2 near-deduplicates the
samples of all shards (stage 3) by repository (``dedup_level``): a repository's samples are
one unit, so a duplicate repository is dropped whole and the audit names the repository it
duplicates; the newest of a cluster stays (``dedup_keep``). A repository that shares only a
part with another (a vendored library) is not a duplicate: both are kept whole, the shared
part in each; ``dedup_level = "sample"`` deduplicates sample by sample instead.

A shard's files are read and run through the per-file stages in batches of about
``shard_bytes`` raw bytes (:func:`dsc.sources.read_in_batches`), so a repository larger than
a shard (a monorepo) is never held raw whole: a batch's bytes, their decoded text and its
screening are freed before the next batch is read. What must outlive the batches is held
until the shard is written: the kept files' text, the audit rows and the manifests, because
the ordering needs every kept file of a repository at once (import resolution reads the
other files' content). Peak memory is therefore the larger of a batch's working set (a few
times ``shard_bytes``) and the shard's kept text beside its samples (the ordering). A shard
is less than ``shard_bytes`` of repositories before its last one, so past a shard's size
this is set by the kept text of the largest repository and its samples, not by its raw size.
The outputs do not depend on the batch size.

The per-file stages run before concatenation, unlike the paper's listing (screening and
decontamination after dedup): dropping a file from an already concatenated sample would
mean rebuilding it, while dropping it first lets the ordering see only the files that stay.

Every output is written atomically; each shard gets a completion marker keyed on its
config and its inputs (:mod:`dsc.shard_plan`), so a killed run resumes where it stopped, a run
over other or edited repositories or other benchmark data redoes the shards concerned, and
outputs of shards no longer planned are removed. Inputs that cannot be used (a file name
that is not UTF-8, a directory that cannot be listed, a file that cannot be read or is over
``max_file_bytes``; a table row that cannot be used, :mod:`dsc.table_source`) are audited in
``OUT/dropped`` with stage ``read``.

The run ends with ``OUT/report.html`` (:mod:`dsc.report`), a page that shows the corpus by
language, every reason a file was dropped with examples, the near-duplicate clusters, the
benchmark leaks, the sample lengths and each phase's time and memory.

Runs in this process by default and on a Ray cluster with ``--ray``; ``--threads`` sizes
both thread pools of every shard task (:mod:`dsc.threads`). Without ``--input``,
the embedded default input is the real code on this machine: the interpreter's standard
library and site-packages, each top-level package a repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from dsc.atomic import write_json, write_parquet
from dsc.corpus_config import CorpusConfig, load_config
from dsc.decontaminate import (
    DecontConfig,
    DecontIndex,
    benchmark_fingerprint,
    decontaminate,
    index_from_config,
)
from dsc.dedup import dedup_shards
from dsc.executor import Executor, LocalExecutor, ProcessExecutor, RayExecutor
from dsc.filters import REASONS, FilterConfig, decode_text, filter_files
from dsc.git_source import GitRepository, is_git_repository
from dsc.ordering import is_manifest, order_repositories
from dsc.progress import Progress, progress_mode
from dsc.redact import REASONS as REDACT_REASONS
from dsc.redact import REDACT_COLUMNS, RedactConfig, redact
from dsc.report import TIMING_FILE, write_report
from dsc.screen import MODEL_REASON, QUALITY_REASONS, SYNTAX_REASONS, ScreenConfig, screen
from dsc.shard_plan import ShardTask, plan_shards, remove_unplanned
from dsc.sources import (
    Repository,
    RepoSource,
    read_in_batches,
    shown_name,
    site_packages_repositories,
    stdlib_repositories,
)
from dsc.storage import is_url, publish, staging_dir
from dsc.table_source import TableColumns, is_table_input, table_files, table_repositories
from dsc.threads import machine_threads, pool_sizes, thread_env
from dsc.token_estimate import file_tokens, sample_tokens

CONTAMINATED = "contaminated"
REPO_UPDATED = "repo_updated"  # the samples' column of their repository's last change
REPO_STARS = "repo_stars"  # ... of its stars (null: the input has none)
REPO_LICENSE = "repo_license"  # ... of its license (null: the input does not say)
REPO_COMMIT = "repo_commit"  # ... of the commit it was read at (null: not a git repository)
#: The samples' column each ``dedup_keep`` ranks near-duplicates by ("largest": their text).
RANK_COLS = {"newest": REPO_UPDATED, "stars": REPO_STARS}

#: Columns of the audit of dropped files (``OUT/dropped``), whatever stage dropped them.
AUDIT_SCHEMA = {
    "repo": pl.String,
    "path": pl.String,
    "lang": pl.String,
    "stage": pl.String,
    "reason": pl.String,
    "n_bytes": pl.UInt64,
    "decont_benchmark": pl.String,
    "decont_item_id": pl.String,
    "decont_span_text": pl.String,
    "head": pl.String,  # the file's first lines, for a reader of the audit (null: not read)
}
#: How much of a dropped file the audit keeps in ``head``: up to ``HEAD_LINES`` lines of its
#: first ``HEAD_BYTES`` bytes (characters, for a file already decoded), with U+FFFD for what is
#: not UTF-8 (the drop may be for that).
HEAD_LINES = 5
HEAD_BYTES = 400


@dataclass(frozen=True, kw_only=True)
class Counts:
    """What went in and out of phase 1, for one shard or summed over all."""

    repos: int
    files_in: int
    bytes_in: int
    files_kept: int
    bytes_kept: int
    samples: int
    dropped_by_reason: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class ShardStats(Counts):
    """What one shard did; written as its completion marker."""

    shard: str
    config: dict[str, Any] = field(repr=False)
    inputs: str = field(repr=False)  # the shard's key (see dsc.shard_plan)


@cache
def _decont_index(cfg: DecontConfig, benchmarks: str) -> DecontIndex:
    """The benchmark index, built once per process (each Ray worker builds its own) and per
    version of the benchmark data (``benchmarks``, its fingerprint)."""
    return index_from_config(cfg)


# The stages' names, as the audit's ``stage`` column writes them.
READ = "read"  # files found but not read (dsc.sources)
FILTERS = "filters"
REDACT = "redact"
SCREEN = "screen"
DECONTAMINATE = "decontaminate"


@dataclass(frozen=True)
class FileStage:
    """One per-file stage: ``run`` adds the column ``reason`` to a frame of files, why the
    stage drops a file (one of ``reasons``) or null to keep it. It reads the stage's settings,
    ``CorpusConfig.<table>``, and the fingerprint of the benchmark data (decontamination's
    index is cached on it). A stage that ``reads_raw`` judges the raw bytes before they are
    decoded, so the files it drops are never decoded; the others see the ``content`` text.
    The stage's ``columns`` (name: type) go with each file to the kept-files table and the
    audit."""

    name: str
    table: str
    run: Callable[[pl.LazyFrame, Any, str], pl.LazyFrame]
    reason: str
    reasons: tuple[str, ...]
    reads_raw: bool = False
    columns: Mapping[str, Any] = field(default_factory=dict)


def _filters(lf: pl.LazyFrame, cfg: FilterConfig, benchmarks: str) -> pl.LazyFrame:
    return filter_files(lf, cfg)


def _redact(lf: pl.LazyFrame, cfg: RedactConfig, benchmarks: str) -> pl.LazyFrame:
    return redact(lf, cfg, column="content")


def _screen(lf: pl.LazyFrame, cfg: ScreenConfig, benchmarks: str) -> pl.LazyFrame:
    return screen(lf, cfg, column="content")


def _decontaminate(lf: pl.LazyFrame, cfg: DecontConfig, benchmarks: str) -> pl.LazyFrame:
    checked = decontaminate(lf, _decont_index(cfg, benchmarks), column="content", lang="lang")
    return checked.with_columns(
        decont_reason=pl.when(pl.col(CONTAMINATED)).then(pl.lit(CONTAMINATED))
    )


#: The per-file stages in pipeline order (DeepSeek-Coder's stages 1, 4 and 5, and StarCoder's
#: redaction before screening, so that samples and offsets are of the redacted text); a
#: file's reason is the first stage's that drops it. Every stage of a kind (raw, text) runs on every
#: file of that kind, so a dropped file's audit row carries every stage's columns.
FILE_STAGES: tuple[FileStage, ...] = (
    FileStage(FILTERS, "filters", _filters, "reason", REASONS, reads_raw=True),
    FileStage(REDACT, "redact", _redact, "redact_reason", REDACT_REASONS, columns=REDACT_COLUMNS),
    FileStage(
        SCREEN,
        "screen",
        _screen,
        "screen_reason",
        (*SYNTAX_REASONS, *QUALITY_REASONS, MODEL_REASON),
    ),
    FileStage(DECONTAMINATE, "decontaminate", _decontaminate, "decont_reason", (CONTAMINATED,)),
)


@dataclass(frozen=True)
class FileStages:
    """What the per-file stages keep of some files, and the audit rows of what they drop."""

    kept: pl.DataFrame  # repo, path, lang, content and the stages' columns
    filtered: pl.DataFrame  # dropped by a stage that reads raw bytes (AUDIT_SCHEMA)
    screened: pl.DataFrame  # dropped by a stage that reads the text (AUDIT_SCHEMA)


def file_stages(
    raw: pl.DataFrame,
    cfg: CorpusConfig,
    benchmarks: str,
    stages: Sequence[FileStage] = FILE_STAGES,
) -> FileStages:
    """The per-file ``stages`` over a batch of files; each file is judged on its own, so the
    result of a batch does not depend on the other files of the batch."""
    on_raw = [s for s in stages if s.reads_raw]
    checked = (
        _judged(raw.lazy(), on_raw, cfg, benchmarks)
        .with_columns(n_bytes=pl.col("raw").bin.size().cast(pl.UInt64))
        .collect()
    )
    content = decode_text("raw", cfg.filters.binary)
    text = checked.lazy().filter(pl.col("reason").is_null()).with_columns(content=content)
    on_text = [s for s in stages if not s.reads_raw]
    late = _judged(text.drop("raw"), on_text, cfg, benchmarks).collect()
    columns = [name for s in stages for name in s.columns]
    early_drops = checked.filter(pl.col("reason").is_not_null()).with_columns(
        head=first_lines(lossy_text(pl.col("raw").bin.slice(0, HEAD_BYTES)))
    )
    late_drops = late.filter(pl.col("reason").is_not_null()).with_columns(
        head=first_lines(pl.col("content").str.slice(0, HEAD_BYTES))
    )
    return FileStages(
        kept=late.filter(pl.col("reason").is_null()).select(
            "repo", "path", "lang", "content", *columns
        ),
        filtered=_audit_rows(early_drops, stages),
        screened=_audit_rows(late_drops, stages),
    )


def _judged(
    lf: pl.LazyFrame, stages: Sequence[FileStage], cfg: CorpusConfig, benchmarks: str
) -> pl.LazyFrame:
    """``lf`` through every stage of ``stages``, with the first stage's reason to drop each
    file (``reason``, null: kept) and that stage's name (``stage``)."""
    for s in stages:
        lf = s.run(lf, getattr(cfg, s.table), benchmarks)
    reason = pl.coalesce([pl.col(s.reason) for s in stages]) if stages else pl.lit(None)
    stage = pl.lit(None, pl.String)
    for s in reversed(stages):
        stage = pl.when(pl.col(s.reason).is_not_null()).then(pl.lit(s.name)).otherwise(stage)
    return lf.with_columns(reason=reason.cast(pl.String), stage=stage)


def lossy_text(raw: pl.Expr) -> pl.Expr:
    """``raw`` bytes as text, U+FFFD for every byte that is not UTF-8."""
    return raw.map_batches(
        lambda s: pl.Series([None if b is None else b.decode("utf-8", "replace") for b in s]),
        return_dtype=pl.String,
    )


def first_lines(text: pl.Expr) -> pl.Expr:
    """The first ``HEAD_LINES`` lines of ``text``."""
    return text.str.split("\n").list.head(HEAD_LINES).list.join("\n")


def _audit_rows(drops: pl.DataFrame, stages: Sequence[FileStage]) -> pl.DataFrame:
    """``drops`` in the audit schema and the ``stages``' columns; columns a stage does not
    produce (or did not reach) are null."""
    schema = {**AUDIT_SCHEMA, **{n: t for s in stages for n, t in s.columns.items()}}
    return drops.select(
        pl.col(name).cast(dtype) if name in drops.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )


@dataclass(frozen=True)
class Batch:
    """What must outlive one batch of a shard's files once its raw bytes are freed."""

    stages: FileStages
    skipped: pl.DataFrame  # found but not read (SKIPPED_SCHEMA)
    manifests: pl.DataFrame  # repo, path, content: every manifest, kept or not
    files_in: int
    bytes_in: int


def run_batch(raw: pl.DataFrame, skipped: pl.DataFrame, task: ShardTask) -> Batch:
    """The per-file stages over one batch of a shard's files."""
    # Manifests (go.mod, ...) tell the resolvers how imports name files, kept or not.
    manifests = raw.filter(is_manifest("path")).select("repo", "path", content=decode_text("raw"))
    return Batch(
        stages=file_stages(raw, task.cfg, task.benchmarks),
        skipped=skipped,
        manifests=manifests.filter(pl.col("content").is_not_null()),
        files_in=raw.height + skipped.height,
        bytes_in=int(raw["raw"].bin.size().sum() or 0) + int(skipped["n_bytes"].sum() or 0),
    )


def run_shard(task: ShardTask) -> ShardStats:
    """Phase 1 for one shard, its files read and judged in batches (see the module's
    docstring); writes kept files, the audit, the samples, then the marker."""
    batches = [
        run_batch(raw, skipped, task)
        for repo in task.repos
        for raw, skipped in read_in_batches(
            repo, batch_bytes=task.cfg.shard_bytes, max_file_bytes=task.cfg.max_file_bytes
        )
    ]
    # Frames end to end, not copied into one chunk: written parquet does not depend on chunks.
    kept = pl.concat([b.stages.kept for b in batches])
    read_drops = [
        _audit_rows(b.skipped.with_columns(stage=pl.lit(READ)), FILE_STAGES) for b in batches
    ]
    audit = pl.concat(
        [*read_drops, *[b.stages.filtered for b in batches], *[b.stages.screened for b in batches]]
    )
    manifests = pl.concat([b.manifests for b in batches])
    files_in = sum(b.files_in for b in batches)
    bytes_in = sum(b.bytes_in for b in batches)
    samples = order_repositories(kept, task.cfg.ordering, manifests).with_columns(
        id=pl.format("{}#{}", "repo", "sample_id")
    )
    about = repo_columns(task)
    kept = kept.with_columns(about, n_bytes=pl.col("content").str.len_bytes().cast(pl.UInt64))
    kept = kept.with_columns(n_tokens_est=file_tokens("n_bytes", "lang"))
    samples = samples.with_columns(
        about,
        n_bytes=pl.col("text").str.len_bytes().cast(pl.UInt64),
        n_tokens_est=sample_tokens("offsets", "langs"),
    )
    write_parquet(kept, task.out_dir / "files" / f"{task.name}.parquet")
    write_parquet(audit, task.out_dir / "dropped" / f"{task.name}.parquet")
    write_parquet(samples, task.out_dir / "samples" / f"{task.name}.parquet")
    stats = ShardStats(
        shard=task.name,
        repos=len(task.repos),
        files_in=files_in,
        bytes_in=bytes_in,
        files_kept=kept.height,
        bytes_kept=int(kept["n_bytes"].sum() or 0),
        samples=samples.height,
        dropped_by_reason=dict(sorted(Counter(audit["reason"].to_list()).items())),
        config=task.cfg.fingerprint(),
        inputs=task.inputs,
    )
    write_json(asdict(stats), task.marker)
    return stats


def repo_columns(task: ShardTask) -> list[pl.Expr]:
    """What the input says of each row's ``repo``: ``repo_updated``, when it last changed
    (seconds since the epoch), ``repo_stars``, ``repo_license`` and ``repo_commit``, the
    commit a git repository was read at; dedup ranks near-duplicate
    repositories by one of them (``RANK_COLS``). Columns computed from ``repo``, not a join: a
    join would copy the samples' text, the largest thing held."""
    names = [r.name for r in task.repos]
    values = {
        REPO_UPDATED: (dict(zip(names, task.last_changes, strict=True)), pl.Int64),
        REPO_STARS: ({r.name: r.stars() for r in task.repos}, pl.Int64),
        REPO_LICENSE: ({r.name: r.license() for r in task.repos}, pl.String),
        REPO_COMMIT: ({r.name: r.describe()["commit"] or None for r in task.repos}, pl.String),
    }
    return [
        pl.col("repo").replace_strict(mapping, return_dtype=dtype).alias(name)
        for name, (mapping, dtype) in values.items()
    ]


def finished_stats(task: ShardTask) -> ShardStats | None:
    """The stats of a shard finished by an earlier run with the same config and the same
    inputs (see :mod:`dsc.shard_plan`), if any; a shard of other inputs is to be redone."""
    if not task.marker.exists():
        return None
    marker = json.loads(task.marker.read_text())
    if marker.get("config") != task.cfg.fingerprint():
        raise SystemExit(
            f"{task.marker}: finished with a different config; use a new --out directory"
        )
    if marker.get("inputs") != task.inputs:
        return None
    return ShardStats(**marker)


def run_dedup(out_dir: Path, cfg: CorpusConfig, executor: Executor, redo: bool) -> dict[str, Any]:
    """Phase 2: near-dedup of all samples into ``OUT/dedup``. An interrupted dedup resumes its
    unfinished tasks; it is redone whole if ``redo``, because phase 1 rewrote some shards."""
    dedup_dir = out_dir / "dedup"
    if redo:
        shutil.rmtree(dedup_dir, ignore_errors=True)
    return dedup_shards(out_dir / "samples", dedup_dir, cfg.dedup_config(RANK_COLS), executor)


@dataclass(frozen=True, kw_only=True)
class Summary(Counts):
    """The whole run: phase-1 counts summed over shards, and what dedup removed."""

    shards: int
    samples_removed_as_duplicates: int
    # Units removed whole by dedup: repositories (dedup_level "repository") or samples.
    units_removed_as_duplicates: int

    @classmethod
    def of(cls, shards: Sequence[ShardStats], dedup: dict[str, Any]) -> Summary:
        reasons: Counter[str] = Counter()
        for s in shards:
            reasons.update(s.dropped_by_reason)
        sums = {
            f.name: sum(getattr(s, f.name) for s in shards)
            for f in fields(Counts)
            if f.name != "dropped_by_reason"
        }
        return cls(
            **sums,
            dropped_by_reason=dict(sorted(reasons.items())),
            shards=len(shards),
            samples_removed_as_duplicates=int(dedup["removed"]),
            units_removed_as_duplicates=int(dedup["removed_units"]),
        )

    def print(self) -> None:
        print(f"shards: {self.shards}  repositories: {self.repos}")
        print(f"files in:   {self.files_in:>10,}  ({self.bytes_in / 1e6:,.1f} MB)")
        print(f"files kept: {self.files_kept:>10,}  ({self.bytes_kept / 1e6:,.1f} MB)")
        removed = self.samples_removed_as_duplicates
        print(f"samples:    {self.samples:>10,}  ({removed:,} near-dup)")
        print("files dropped by rule:")
        declared = [r for s in FILE_STAGES for r in s.reasons]
        known = [*declared, *sorted(set(self.dropped_by_reason) - set(declared))]
        for reason in known:
            n = self.dropped_by_reason.get(reason, 0)
            print(f"  {reason:<24}{n:>10,}  {100 * n / max(self.files_in, 1):6.2f} %")


def default_repositories() -> list[RepoSource]:
    return [*stdlib_repositories(), *site_packages_repositories()]


def input_repositories(
    location: str | Path, git_ref: str = "HEAD", columns: TableColumns | None = None
) -> list[RepoSource]:
    """Parquet/JSONL tables of file rows when ``root`` names them (a file, a glob, a
    directory of them; :mod:`dsc.table_source`, read through ``columns``); else ``root``
    itself when it is a git repository, else each of its subdirectories: a git repository
    (work tree or bare; its ``git_ref`` tree is read) or a directory of files. Names that
    are not UTF-8 are shown with ``\\xNN`` escapes. A URL (``s3://...``) names tables."""
    spec = os.fspath(location)
    root = Path(spec)
    if is_table_input(spec) and (is_url(spec) or not is_git_repository(root)):
        return table_repositories(table_files(spec), columns or TableColumns())
    if not root.is_dir():
        raise SystemExit(f"--input {root}: not a directory")
    if is_git_repository(root):
        return [GitRepository(shown_name(root.name), root, git_ref)]
    return [
        GitRepository(shown_name(p.name), p, git_ref)
        if is_git_repository(p)
        else Repository(shown_name(p.name), p)
        for p in sorted(root.iterdir())
        if p.is_dir()
    ]


INPUTS_SCHEMA = {"repo": pl.String, "kind": pl.String, "location": pl.String, "commit": pl.String}


def inputs_frame(repos: Sequence[RepoSource]) -> pl.DataFrame:
    """Where each repository was read from: a directory, or a git repository's ref and the
    commit it named (``OUT/inputs.parquet``)."""
    rows = [{"repo": r.name, **r.describe()} for r in repos]
    return pl.DataFrame(rows, schema=INPUTS_SCHEMA)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dsc.build_corpus", description=__doc__)
    parser.add_argument(
        "--input",
        help="a directory whose subdirectories are repos, a git repository, or Parquet/JSONL "
        "tables of file rows (a file, a directory of them, or a quoted glob: 'data/*.parquet'; "
        "also as a URL of fsspec storage: 's3://bucket/stack/*.parquet')",
    )
    parser.add_argument(
        "--out",
        default="out/corpus",
        help="output directory, or a URL of fsspec storage (s3://bucket/corpus): built in a "
        "local staging directory ($DSC_STAGING_DIR) and uploaded at the end, summary.json last",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="TOML file of settings (every one, with its default: python -m dsc.corpus_config "
        "--dump); unnamed settings keep their defaults",
    )
    parser.add_argument("--ray", metavar="ADDRESS", help="run shards on a Ray cluster")
    parser.add_argument("--max-repos", type=int, help="only the first N repositories")
    parser.add_argument(
        "--git-ref",
        default="HEAD",
        help="the ref whose tree is read from each git repository of --input (default HEAD)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        help="threads of each shard task, for Polars and our Rayon pool alike (default: the "
        "cores shared by the local workers; 1 per Ray task, which reserves as many CPUs as it "
        "has threads)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (no progress, no summary)"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="local worker processes running shard tasks side by side (default 1: tasks run "
        "in this process, each on every core)",
    )
    return parser.parse_args(argv)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def shard_executor(ray_address: str | None, threads: int | None, workers: int = 1) -> Executor:
    """Where shard tasks run, with both thread pools of each sized to ``threads``.

    ``workers`` local processes (spawned) share the cores unless ``threads`` is given. One
    worker is this process, unless its pools (sized when Polars was imported) differ from
    ``threads``: then one worker process started with the setting.
    """
    if ray_address is not None:
        per_task = threads or 1
        env = tuple(thread_env(per_task).items())
        return RayExecutor(address=ray_address, num_cpus=per_task, env=env)
    if workers == 1 and (threads is None or pool_sizes() == (threads, threads)):
        return LocalExecutor()
    per_task = threads or max(1, machine_threads() // workers)
    return ProcessExecutor(workers, tuple(thread_env(per_task).items()))


def phase_timing(phase: str, started: float) -> dict[str, Any]:
    """Seconds since ``started`` and the peak RSS so far of this process and, apart, of its
    finished child processes (local workers; ``ru_maxrss`` is in kB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "phase": phase,
        "seconds": round(time.monotonic() - started, 3),
        "peak_rss_mb": round(own / 1024, 1),
        "peak_rss_workers_mb": round(children / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return build(args)
    except (FileNotFoundError, ValueError) as exc:  # bad config, missing benchmark data, ...
        raise SystemExit(f"build_corpus: {exc}") from exc


def build(args: argparse.Namespace) -> int:
    cfg = load_config(args.config) if args.config else CorpusConfig()
    if args.input:
        repos = input_repositories(args.input, args.git_ref, cfg.input)
    else:
        repos = default_repositories()
    repos = repos[: args.max_repos] if args.max_repos else repos
    unranked = [r.name for r in repos if r.stars() is None]
    if cfg.dedup_keep == "stars" and unranked:
        raise SystemExit(
            f"dedup_keep = 'stars' needs table input (Parquet/JSONL with a stars column): "
            f"{unranked[0]} and {len(unranked) - 1} more repositories have no stars"
        )
    out = staging_dir(args.out) if is_url(args.out) else Path(args.out)
    shards = plan_shards(repos, cfg, out, benchmark_fingerprint(cfg.decontaminate))
    todo = [t for t in shards if finished_stats(t) is None]
    stale = remove_unplanned(out, shards)
    write_parquet(inputs_frame(repos), out / "inputs.parquet")
    mode = progress_mode(args.quiet)
    say = (lambda _: None) if args.quiet else (lambda text: print(text, flush=True))
    say(
        f"{len(shards)} shards planned, {len(shards) - len(todo)} already done, "
        f"{len(stale)} stale outputs removed"
    )
    executor = shard_executor(args.ray, args.threads, args.workers)
    started = time.monotonic()
    phase1 = Progress(
        "phase 1 (filter, redact, screen, decontaminate, order)",
        [t.input_bytes for t in todo],
        mode,
    )
    executor.map(run_shard, todo, phase1)
    phase1.close()
    timing = [phase_timing("phase 1 (filter, screen, decontaminate, order)", started)]
    started = time.monotonic()
    dedup = run_dedup(out, cfg, executor, redo=bool(todo or stale))
    timing.append(phase_timing("phase 2 (near-dedup)", started))
    say(f"phase 2 (near-dedup) done in {timing[-1]['seconds']:,.1f} s")
    summary = Summary.of([s for t in shards if (s := finished_stats(t))], dedup)
    write_json(asdict(summary), out / "summary.json")
    # Apart from summary.json, whose bytes depend on the inputs only.
    write_json(timing, out / TIMING_FILE)
    say(f"report: {write_report(out)}")
    if not args.quiet:
        summary.print()
    where = str(out)
    if is_url(args.out):
        say(f"uploaded {publish(out, args.out):,} files from {out} to {args.out}")
        where = args.out.rstrip("/")
    say(f"corpus written to {where}/dedup/data (audit: {where}/dropped)")
    return 0


if __name__ == "__main__":
    # The importable module's main, not this copy's: Ray workers import the shard task
    # functions by module name, and a worker's own __main__ has none of them.
    from dsc import build_corpus

    sys.exit(build_corpus.main())
