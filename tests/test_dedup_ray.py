"""The dedup stages as Ray tasks on a local two-CPU cluster give the local executor's result."""

from __future__ import annotations

import polars as pl
import pytest

from dsc.atomic import write_parquet
from dsc.dedup import DedupConfig, dedup_shards
from dsc.executor import LocalExecutor, RayExecutor

ray = pytest.importorskip("ray")

CFG = DedupConfig(num_perm=64, num_partitions=2)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_matches_local(tmp_path, local_ray):
    base = " ".join(f"token{i % 97} value{i}" for i in range(300))
    texts = [base, base + " extra", base.replace("value1 ", "v1 "), "unrelated " * 40, "x y z"]
    df = pl.DataFrame({"id": list(range(len(texts))), "text": texts})
    write_parquet(df[:2], tmp_path / "in" / "a.parquet")
    write_parquet(df[2:], tmp_path / "in" / "b.parquet")

    on_ray = dedup_shards(tmp_path / "in", tmp_path / "ray", CFG, RayExecutor(address=None))
    local = dedup_shards(tmp_path / "in", tmp_path / "local", CFG, LocalExecutor())

    assert on_ray == local and on_ray["removed"] == 2
    for name in ("data/a", "data/b", "audit/a", "audit/b"):
        ray_out = pl.read_parquet(tmp_path / "ray" / f"{name}.parquet")
        assert ray_out.equals(pl.read_parquet(tmp_path / "local" / f"{name}.parquet"))
