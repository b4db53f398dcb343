"""How ``build_corpus`` cuts its input into shards, and what makes a finished shard reusable.

Repositories are packed, in order, into shards of about ``shard_bytes`` (a repository is
never split). Each shard is keyed on what it holds: its repositories' names, a listing of
their files (relative path, size and modification time of each, and the entries the walk
could not use), when each last changed (dedup ranks by it) and the fingerprint of the
benchmark data the decontamination index is built from. A completion marker counts only for
the same key, so a run over more repositories, an edited file or new benchmark data redoes
the shards concerned; outputs of shards the plan no longer has are removed, so that dedup
never reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dsc.corpus_config import CorpusConfig
from dsc.sources import Listing, RepoSource

#: The per-shard output folders under ``OUT`` (``_done`` holds the completion markers).
SHARD_DIRS = ("files", "dropped", "samples", "_done")


@dataclass(frozen=True)
class ShardTask:
    """One unit of phase 1: whole repositories, where their outputs go, and their key."""

    index: int
    repos: tuple[RepoSource, ...]
    last_changes: tuple[int, ...]  # of each repository, read with the plan's listings
    out_dir: Path
    cfg: CorpusConfig
    benchmarks: str  # fingerprint of the benchmark data (dsc.decontaminate)
    inputs: str  # digest of the repositories' listings and of the benchmark data
    input_bytes: int  # bytes of the files it reads (progress)

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}"

    @property
    def marker(self) -> Path:
        return self.out_dir / "_done" / f"{self.name}.json"


def listing_digest(name: str, listing: Listing) -> bytes:
    """A digest of one repository's name and listing (its last change too: dedup ranks by it)."""
    files = [[f.relative, f.size, f.version] for f in listing.files]
    problems = [list(p) for p in listing.problems]
    text = json.dumps([name, files, problems, listing.last_change])
    return hashlib.sha256(text.encode()).digest()


def plan_shards(
    repos: Sequence[RepoSource], cfg: CorpusConfig, out_dir: Path, benchmarks: str
) -> list[ShardTask]:
    """Pack repositories, in order, into shards of about ``cfg.shard_bytes`` raw bytes (files
    over ``cfg.max_file_bytes`` not counted: they are not read); ``benchmarks`` is the
    benchmark data's fingerprint."""
    shards: list[ShardTask] = []
    current: list[RepoSource] = []
    changes: list[int] = []  # each current repository's last change, from its listing
    digest = hashlib.sha256(benchmarks.encode())
    size = 0

    def close() -> None:
        task = ShardTask(
            len(shards),
            tuple(current),
            tuple(changes),
            out_dir,
            cfg,
            benchmarks,
            digest.hexdigest(),
            size,
        )
        shards.append(task)

    for repo in repos:
        listing = repo.listing()
        current.append(repo)
        digest.update(listing_digest(repo.name, listing))
        changes.append(listing.last_change)
        size += sum(f.size for f in listing.files if f.size <= cfg.max_file_bytes)
        if size >= cfg.shard_bytes:
            close()
            current, changes, size = [], [], 0
            digest = hashlib.sha256(benchmarks.encode())
    if current:
        close()
    return shards


def remove_unplanned(out_dir: Path, shards: Sequence[ShardTask]) -> list[Path]:
    """Delete the outputs and markers of shards that are not in the plan (left by an earlier
    run over other input); returns what was deleted."""
    planned = {task.name for task in shards}
    stale = [
        path
        for folder in SHARD_DIRS
        if (out_dir / folder).is_dir()
        for path in sorted((out_dir / folder).iterdir())
        if path.suffix in (".parquet", ".json") and path.stem not in planned
    ]
    for path in stale:
        path.unlink()
    return stale
