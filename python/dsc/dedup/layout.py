"""Where each dedup stage reads and writes: one directory per run, shared by all workers.

``out_dir/data/<shard>.parquet`` and ``out_dir/audit/<shard>.parquet`` are the results (one per
input shard, named after it), ``out_dir/stats.json`` the run's report, and ``out_dir/_work`` the
intermediate files: signatures per shard (row-addressable files, see ``dsc_core::sigstore``),
band records per partition and shard, verified pairs per partition, and the clusters.
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
