"""The four stages of near-deduplication, each from files to files (PAPER.md §1 stage 3).

1. :func:`compute_signatures` (per input shard): MinHash signatures, and the LSH band hashes
   partitioned by hash value.
2. :func:`find_pairs` (per band partition): rows sharing a band hash become candidate pairs,
   verified by estimated Jaccard.
3. :func:`cluster_pairs` (once, over the pairs only): connected components; the row of highest
   rank (then smallest id) is kept in each.
4. :func:`filter_shard` (per input shard): the cluster id and keep flag of every row, and the
   audit of the removed rows.

A stage holds one shard, one partition, or the duplicate pairs in memory, never the corpus, and
its result depends only on the rows, not on how they were split into shards: every order is
fixed by sorting on ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from dsc import _dsc
from dsc.atomic import write_parquet
from dsc.dedup.config import DedupConfig
from dsc.dedup.expressions import band_hashes, minhash_signature, minhash_similarity
from dsc.dedup.layout import Layout

CLUSTER_ID = "cluster_id"
KEEP = "keep"
# Pairs whose signatures are joined at once when verifying (each row carries two signatures).
_PAIR_SLICE = 16_384


class DedupInputError(ValueError):
    """An input shard that cannot be deduplicated; the message names the file, row and field."""


def compute_signatures(shard: Path, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 1: signatures of one shard, and its band records split by band-hash partition."""
    rows = _read_checked(shard, cfg)
    rank = pl.col(cfg.text_col).str.len_bytes() if cfg.rank_col is None else pl.col(cfg.rank_col)
    signatures = rows.select(
        id=pl.col(cfg.id_col),
        rank=rank.cast(pl.Float64),
        signature=minhash_signature(cfg.text_col, cfg),
    )
    write_parquet(signatures, layout.signatures(shard.stem))
    bands, band_rows = cfg.layout()
    records = (
        signatures.select("id", "rank", hash=band_hashes("signature", bands, band_rows))
        .explode("hash")
        .with_columns(partition=pl.col("hash") % cfg.num_partitions)
    )
    by_partition = records.partition_by("partition", as_dict=True, include_key=False)
    empty = records.clear().drop("partition")
    for partition in range(cfg.num_partitions):
        part = by_partition.get((partition,), empty)
        write_parquet(part, layout.bands(partition, shard.stem))
    return {"shard": shard.name, "rows": rows.height}


def find_pairs(partition: int, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 2: the duplicate pairs of one band-hash partition, with estimated similarity."""
    records = pl.read_parquet(layout.band_files(partition)).filter(pl.len().over("hash") > 1)
    # Nodes numbered in id order make the pairs (and big buckets' anchors) independent of shards.
    nodes = records.select("id", "rank").unique("id").sort("id").with_row_index("node")
    records = records.join(nodes.select("id", "node"), on="id")
    left, right = _dsc.lsh_candidate_pairs(records["hash"], records["node"], cfg.max_bucket_pairs)
    pairs = (
        pl.DataFrame({"left": left, "right": right})
        .join(_renamed(nodes, "left", "a"), on="left")
        .join(_renamed(nodes, "right", "b"), on="right")
        .select("id_a", "rank_a", "id_b", "rank_b")
    )
    signatures = _signatures_of(layout.signature_files(), pl.concat([pairs["id_a"], pairs["id_b"]]))
    pairs = pairs.with_columns(similarity=_similarities(pairs, signatures))
    verified = pairs.filter(pl.col("similarity") >= cfg.threshold) if cfg.verify else pairs
    write_parquet(verified.sort("id_a", "id_b"), layout.pairs(partition))
    return {"partition": partition, "candidates": pairs.height, "pairs": verified.height}


def cluster_pairs(layout: Layout, cfg: DedupConfig) -> dict[str, Any]:
    """Stage 3: connected components of all verified pairs, and the row kept in each."""
    pairs = pl.read_parquet(layout.pair_files()).unique(["id_a", "id_b"])
    ends = [pairs.select(id=f"id_{s}", rank=f"rank_{s}") for s in ("a", "b")]
    # Nodes in keep-preference order: the union-find root (smallest node) is the one kept.
    nodes = (
        pl.concat(ends)
        .unique("id")
        .sort(["rank", "id"], descending=[True, False])
        .with_row_index("node")
    )
    left = pairs.join(_renamed(nodes, "left", "a"), on="id_a", maintain_order="left")["left"]
    right = pairs.join(_renamed(nodes, "right", "b"), on="id_b", maintain_order="left")["right"]
    roots, stats = _dsc.lsh_clusters(nodes.height, left, right)
    members = nodes.with_columns(root=roots).select(
        "id",
        pl.col("id").gather(pl.col("root")).alias(CLUSTER_ID),
        (pl.col("node") == pl.col("root")).alias(KEEP),
    )
    write_parquet(members, layout.clusters)
    kept = members.filter(KEEP)["id"]
    kept_signatures = _signatures_of(layout.signature_files(), kept).rename(
        {"id": CLUSTER_ID, "signature": "kept_signature"}
    )
    write_parquet(kept_signatures, layout.kept_signatures)
    return {"pairs": pairs.height, **stats}


def filter_shard(shard: Path, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 4: every row of one shard with its cluster id and keep flag; the removals' audit."""
    rows = pl.read_parquet(shard)
    for name in (CLUSTER_ID, KEEP):
        if name in rows.columns:
            raise DedupInputError(f"{shard}: column '{name}' exists already (it is an output)")
    clusters = pl.read_parquet(layout.clusters).rename({"id": cfg.id_col})
    annotated = rows.join(clusters, on=cfg.id_col, how="left", maintain_order="left").with_columns(
        pl.coalesce(CLUSTER_ID, cfg.id_col).alias(CLUSTER_ID), pl.col(KEEP).fill_null(True)
    )
    audit = _audit(annotated, cfg, layout.signatures(shard.stem), layout.kept_signatures)
    output = annotated.filter(KEEP) if cfg.drop_removed else annotated
    write_parquet(output, layout.output(shard.stem))
    write_parquet(audit, layout.audit(shard.stem))
    return {"shard": shard.name, "rows": rows.height, "removed": audit.height}


def _audit(annotated: pl.DataFrame, cfg: DedupConfig, signatures: Path, kept: Path) -> pl.DataFrame:
    """Removed rows with the kept row of their cluster and their estimated similarity to it."""
    removed = annotated.filter(~pl.col(KEEP)).select(
        removed_id=pl.col(cfg.id_col), kept_id=pl.col(CLUSTER_ID)
    )
    own = pl.read_parquet(signatures).rename({"id": "removed_id"})
    kept_signatures = pl.read_parquet(kept).rename({CLUSTER_ID: "kept_id"})
    return (
        removed.join(own, on="removed_id", maintain_order="left")
        .join(kept_signatures, on="kept_id", maintain_order="left")
        .select(
            "removed_id",
            "kept_id",
            similarity=minhash_similarity("signature", "kept_signature"),
        )
    )


def _read_checked(shard: Path, cfg: DedupConfig) -> pl.DataFrame:
    """The id, text and rank columns of a shard, with every defect named by file, row and field."""
    columns = [cfg.id_col, cfg.text_col] + ([cfg.rank_col] if cfg.rank_col else [])
    schema = pl.read_parquet_schema(shard)
    for name in columns:
        if name not in schema:
            raise DedupInputError(f"{shard}: no column '{name}' (has {list(schema)})")
    if schema[cfg.text_col] != pl.String:
        raise DedupInputError(
            f"{shard}: text column '{cfg.text_col}' must be String, got {schema[cfg.text_col]}"
        )
    rows = pl.read_parquet(shard, columns=columns)
    for name in columns:
        nulls = rows.with_row_index().filter(pl.col(name).is_null())
        if nulls.height:
            raise DedupInputError(f"{shard}: row {nulls['index'][0]}: '{name}' is null")
    repeated = rows.filter(pl.col(cfg.id_col).is_duplicated())
    if repeated.height:
        raise DedupInputError(f"{shard}: id {repeated[cfg.id_col][0]!r} occurs more than once")
    return rows


def _signatures_of(files: list[Path], ids: pl.Series) -> pl.DataFrame:
    """The signatures of ``ids`` only, read shard by shard so memory follows the ids asked for."""
    wanted = ids.unique()
    return pl.concat(
        [pl.scan_parquet(f).filter(pl.col("id").is_in(wanted.implode())).collect() for f in files]
    ).select("id", "signature")


def _similarities(pairs: pl.DataFrame, signatures: pl.DataFrame) -> pl.Series:
    """Estimated Jaccard of each pair ``id_a``, ``id_b``, in pair order. Pairs are joined to
    their signatures a slice at a time, so memory holds one slice of signature copies."""
    left = signatures.rename({"id": "id_a", "signature": "sig_a"})
    right = signatures.rename({"id": "id_b", "signature": "sig_b"})
    parts = [
        chunk.join(left, on="id_a", how="left", maintain_order="left")
        .join(right, on="id_b", how="left", maintain_order="left")
        .select(minhash_similarity("sig_a", "sig_b"))
        .to_series()
        for chunk in pairs.select("id_a", "id_b").iter_slices(_PAIR_SLICE)
    ]
    return pl.concat(parts) if parts else pl.Series(dtype=pl.Float64)


def _renamed(nodes: pl.DataFrame, node_name: str, suffix: str) -> pl.DataFrame:
    """``nodes`` with ``node`` named ``node_name`` and ``id``/``rank`` suffixed."""
    return nodes.rename({"node": node_name, "id": f"id_{suffix}", "rank": f"rank_{suffix}"})
