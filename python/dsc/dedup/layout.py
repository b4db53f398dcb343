"""Where each dedup stage reads and writes: one directory per run, shared by all workers.

``out_dir/data/<shard>.parquet`` and ``out_dir/audit/<shard>.parquet`` are the results (one per
input shard, named after it), ``out_dir/stats.json`` the run's report, and ``out_dir/_work`` the
intermediate files: signatures per shard (row-addressable files, see ``dsc_core::sigstore``),
band records and ids per partition and shard, verified pairs per partition, the clusters, what
the run deduplicates (``run.json``), and a report per finished task (so a killed run resumes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """The paths of one dedup run under ``out_dir``."""

    out_dir: Path

    @property
    def work(self) -> Path:
        return self.out_dir / "_work"

    def signatures(self, shard: str) -> Path:
        return self.work / "signatures" / f"{shard}.sig"

    def bands(self, partition: int, shard: str) -> Path:
        return self.work / "bands" / f"{partition:05d}" / f"{shard}.parquet"

    def band_files(self, partition: int) -> list[Path]:
        return sorted((self.work / "bands" / f"{partition:05d}").glob("*.parquet"))

    def ids(self, partition: int, shard: str) -> Path:
        return self.work / "ids" / f"{partition:05d}" / f"{shard}.parquet"

    def id_files(self, partition: int) -> list[Path]:
        return sorted((self.work / "ids" / f"{partition:05d}").glob("*.parquet"))

    def pairs(self, partition: int) -> Path:
        return self.work / "pairs" / f"{partition:05d}.parquet"

    def pair_files(self) -> list[Path]:
        return sorted((self.work / "pairs").glob("*.parquet"))

    @property
    def clusters(self) -> Path:
        return self.work / "clusters.parquet"

    def output(self, shard: str) -> Path:
        return self.out_dir / "data" / f"{shard}.parquet"

    def audit(self, shard: str) -> Path:
        return self.out_dir / "audit" / f"{shard}.parquet"

    @property
    def stats(self) -> Path:
        return self.out_dir / "stats.json"

    @property
    def run(self) -> Path:
        """What the run in this directory deduplicates: its config and input shards."""
        return self.work / "run.json"

    def done(self, stage: str, task: str) -> Path:
        """A finished task's report, written after its outputs: a rerun skips the task."""
        return self.work / "done" / stage / f"{task}.json"
