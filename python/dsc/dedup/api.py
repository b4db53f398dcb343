"""Deduplicate a directory of shards, or one frame, in one call."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from dsc.atomic import write_json, write_parquet
from dsc.dedup.config import DedupConfig
from dsc.dedup.layout import Layout
from dsc.dedup.stages import cluster_pairs, compute_signatures, filter_shard, find_pairs
from dsc.executor import Executor, LocalExecutor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupResult:
    """The rows with ``cluster_id`` and ``keep``, the audit of removals, and the run's report."""

    frame: pl.DataFrame
    audit: pl.DataFrame
    stats: dict[str, Any]


def dedup_shards(
    in_dir: str | Path,
    out_dir: str | Path,
    cfg: DedupConfig | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Near-deduplicate the ``*.parquet`` shards of ``in_dir`` into ``out_dir``.

    Every shard needs the id and text columns of ``cfg``; ids are unique across all shards.
    The stages exchange files under ``out_dir``: on a Ray cluster, ``in_dir`` and ``out_dir``
    must be on storage every node mounts at the same path.

    Writes ``out_dir/data/<shard>.parquet`` (the rows with ``cluster_id``, the id of the kept row
    of their cluster, and ``keep``), ``out_dir/audit/<shard>.parquet`` (``removed_id``,
    ``kept_id``, ``similarity``) and ``out_dir/stats.json``, which is also returned
    (``removed``: rows; ``removed_units``: rows, or groups with ``cfg.group_col``).

    ``out_dir`` must be new or empty, or hold an interrupted run of the same shards and config:
    that run resumes, skipping every task that finished.
    """
    cfg = cfg or DedupConfig()
    run = executor or LocalExecutor()
    shards = sorted(Path(in_dir).glob("*.parquet"))
    if not shards:
        raise FileNotFoundError(f"no *.parquet shards in {in_dir}")
    layout = Layout(Path(out_dir))
    _start_or_resume(layout, _identity(shards, cfg))
    by_shard = {shard.stem: shard for shard in shards}
    by_partition = {f"{p:05d}": p for p in range(cfg.num_partitions)}
    signature_reports = _stage(layout, "signatures", run, compute_signatures, by_shard, cfg)
    pair_reports = _stage(layout, "pairs", run, find_pairs, by_partition, cfg)
    all_pairs = {"all": layout.pair_files()}
    (clusters,) = _stage(layout, "clusters", run, cluster_pairs, all_pairs, cfg)
    filter_reports = _stage(layout, "filter", run, filter_shard, by_shard, cfg)
    bands, rows = cfg.layout()
    stats = {
        "rows": sum(r["rows"] for r in signature_reports),
        "removed": sum(r["removed"] for r in filter_reports),
        "removed_units": sum(r["units"] for r in filter_reports),
        "bands": bands,
        "rows_per_band": rows,
        "candidate_pairs": sum(r["candidates"] for r in pair_reports),
        "verified_pairs": sum(r["pairs"] for r in pair_reports),
        "clusters": clusters,
        "shards": filter_reports,
    }
    write_json(stats, layout.stats)
    return stats


def dedup_frame(
    df: pl.DataFrame,
    id_col: str = "id",
    text_col: str = "text",
    cfg: DedupConfig | None = None,
    executor: Executor | None = None,
) -> DedupResult:
    """Near-deduplicate one frame (through the same staged files, in a temporary directory).

    >>> import polars as pl
    >>> from dsc.dedup import dedup_frame
    >>> text = " ".join(f"word{i}" for i in range(200))
    >>> df = pl.DataFrame({"id": [1, 2, 3], "text": [text, text + " end", "other text"]})
    >>> result = dedup_frame(df)
    >>> result.frame.select("id", "cluster_id", "keep")
    shape: (3, 3)
    ┌─────┬────────────┬───────┐
    │ id  ┆ cluster_id ┆ keep  │
    │ --- ┆ ---        ┆ ---   │
    │ i64 ┆ i64        ┆ bool  │
    ╞═════╪════════════╪═══════╡
    │ 1   ┆ 2          ┆ false │
    │ 2   ┆ 2          ┆ true  │
    │ 3   ┆ 3          ┆ true  │
    └─────┴────────────┴───────┘
    """
    cfg = replace(cfg or DedupConfig(), id_col=id_col, text_col=text_col)
    with tempfile.TemporaryDirectory(prefix="dsc-dedup-") as tmp:
        in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        write_parquet(df, in_dir / "frame.parquet")
        stats = dedup_shards(in_dir, out_dir, cfg, executor)
        layout = Layout(out_dir)
        frame = pl.read_parquet(layout.output("frame"))
        audit = pl.read_parquet(layout.audit("frame"))
    return DedupResult(frame=frame, audit=audit, stats=stats)


def _identity(shards: list[Path], cfg: DedupConfig) -> dict[str, Any]:
    """What a run deduplicates: the config, and each shard's name, size and modification time."""
    files = [[s.name, (st := s.stat()).st_size, st.st_mtime_ns] for s in shards]
    identity: dict[str, Any] = json.loads(json.dumps({"config": asdict(cfg), "shards": files}))
    return identity


def _start_or_resume(layout: Layout, identity: dict[str, Any]) -> None:
    """Claim ``layout.out_dir`` for a new run, or resume the run of the same input there."""
    if layout.run.exists():
        if json.loads(layout.run.read_text()) != identity:
            raise FileExistsError(
                f"{layout.out_dir} holds a dedup run of other shards or another config: "
                "use a fresh directory"
            )
        log.info("dedup: resuming the run in %s", layout.out_dir)
        return
    if layout.out_dir.exists() and any(layout.out_dir.iterdir()):
        raise FileExistsError(f"{layout.out_dir} is not empty: dedup writes a fresh directory")
    write_json(identity, layout.run)


def _stage(
    layout: Layout,
    name: str,
    run: Executor,
    stage: Callable[[Any, DedupConfig, Layout], dict[str, Any]],
    items: dict[str, Any],
    cfg: DedupConfig,
) -> list[dict[str, Any]]:
    """``stage(item, cfg, layout)`` for every item, shipped as plain data any executor can
    send, skipping the tasks an earlier run finished; logs the stage's wall time (at INFO, on
    logger ``dsc.dedup.api``)."""
    start = time.perf_counter()
    calls = [(stage, (item, cfg, layout), layout.done(name, key)) for key, item in items.items()]
    reports = run.map(_apply, calls)
    log.info("dedup stage %s: %d tasks in %.1f s", name, len(reports), time.perf_counter() - start)
    return reports


def _apply(call: tuple[Callable[..., dict[str, Any]], tuple[Any, ...], Path]) -> dict[str, Any]:
    """Runs one task, or returns its report if an earlier run finished it. The report is
    written after the task's outputs, so a task killed half-way runs again."""
    stage, args, done = call
    if not done.exists():
        write_json(stage(*args), done)
    report: dict[str, Any] = json.loads(done.read_text())
    return report
