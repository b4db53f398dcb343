"""The four stages of near-deduplication, each from files to files (DeepSeek-Coder §2.3).

1. :func:`compute_signatures` (per input shard): MinHash signatures, written to a
   row-addressable signature file, and the LSH band records (band hash, id, rank and where the
   signature is) split by band-hash partition; the ids too, split by their own hash.
2. :func:`find_pairs` (per band partition): rows sharing a band hash become candidate pairs,
   verified by the estimated Jaccard of their signatures, which are read row by row; ids
   repeated across shards are reported.
3. :func:`cluster_pairs` (once): connected components, fed one partition's pairs at a time;
   the row of highest rank (then smallest id) is kept in each.
4. :func:`filter_shard` (per input shard): the cluster id and keep flag of every row, and the
   audit of the removed rows.

With ``group_col`` the unit of all four stages is the group (e.g. a repository's samples):
one signature per group (:func:`unit_signatures`), pairs and clusters of groups, and every
row of a group gets its group's cluster id and keep flag; the audit names groups.

Memory: stages 1 and 4 hold one shard; stage 2 one partition's band records and pairs and the
signatures of a slice of pairs; stage 3 one entry per row that has a duplicate (its id, rank
and signature location) and one partition's pairs. No stage reads every signature of the
corpus. Results depend only on the rows, not on how they were split into shards: every order is
fixed by sorting on ids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from dsc import _dsc
from dsc.atomic import write_parquet, write_with
from dsc.dedup.config import DedupConfig
from dsc.dedup.expressions import band_hashes, minhash_finish, minhash_signature, minhash_sketch
from dsc.dedup.layout import Layout

CLUSTER_ID = "cluster_id"
KEEP = "keep"
# What a band record, and each end of a pair, says of its row: where its signature is too.
_ROW = ["id", "rank", "shard", "row"]
# Pairs whose signatures are compared in one call (each distinct row's signature is read once).
_PAIR_SLICE = 16_384


class DedupInputError(ValueError):
    """An input shard that cannot be deduplicated; the message names the file, row and field."""


def compute_signatures(shard: Path, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 1: signatures of one shard, and its band records split by band-hash partition.
    Ids here are the units' (rows', or groups' when ``cfg.group_col`` is set)."""
    rows = _read_checked(shard, cfg)
    signatures = unit_signatures(rows, cfg).with_columns(
        shard=pl.lit(shard.stem), row=pl.int_range(pl.len(), dtype=pl.UInt32)
    )
    write_with(
        lambda tmp: _dsc.write_signature_file(tmp, signatures["signature"], cfg.num_perm),
        layout.signatures(shard.stem),
    )
    bands, band_rows = cfg.layout()
    records = (
        signatures.select(*_ROW, hash=band_hashes("signature", bands, band_rows))
        .explode("hash")
        .with_columns(partition=pl.col("hash") % cfg.num_partitions)
    )
    # Ids go to partitions by their own hash, so that stage 2 sees every row of an id together.
    ids = signatures.select("id", "shard", partition=pl.col("id").hash(seed=0) % cfg.num_partitions)
    _write_partitions(records, cfg.num_partitions, lambda p: layout.bands(p, shard.stem))
    _write_partitions(ids, cfg.num_partitions, lambda p: layout.ids(p, shard.stem))
    return {"shard": shard.name, "rows": rows.height}


def unit_signatures(rows: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """``id``, ``rank`` and ``signature`` of each unit in first-appearance order: each row, or
    each group, whose signature is that of the union of its rows' shingles (the element-wise
    minimum of their sketches, finished) and whose rank is the sum of their text lengths, or
    the highest of their ``rank_col`` values (a repository's date or stars, the same on each
    row)."""
    rank = pl.col(cfg.text_col).str.len_bytes() if cfg.rank_col is None else pl.col(cfg.rank_col)
    if cfg.group_col is None:
        return rows.select(
            id=pl.col(cfg.unit_col),
            rank=rank.cast(pl.Float64),
            signature=minhash_signature(cfg.text_col, cfg),
        )
    sketched = rows.select(
        id=pl.col(cfg.unit_col),
        rank=rank.cast(pl.Float64),
        sketch=minhash_sketch(cfg.text_col, cfg),
    )
    minima = (
        sketched.with_columns(position=pl.int_ranges(pl.col("sketch").list.len()))
        .explode("sketch", "position")
        .group_by("id", "position")
        .agg(pl.col("sketch").min())
        .group_by("id")
        .agg(pl.col("sketch").sort_by("position"))
        .select("id", signature=minhash_finish("sketch", cfg))
    )
    unit_rank = pl.col("rank").sum() if cfg.rank_col is None else pl.col("rank").max()
    ranks = sketched.group_by("id", maintain_order=True).agg(unit_rank)
    return ranks.join(minima, on="id", maintain_order="left")


def _write_partitions(frame: pl.DataFrame, count: int, path: Callable[[int], Path]) -> None:
    """One file per partition (empty ones too) of ``frame``'s rows, by its column
    ``partition``."""
    by_partition = frame.partition_by("partition", as_dict=True, include_key=False)
    empty = frame.clear().drop("partition")
    for partition in range(count):
        write_parquet(by_partition.get((partition,), empty), path(partition))


def find_pairs(partition: int, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 2: the duplicate pairs of one band-hash partition, with estimated similarity."""
    _check_ids_are_unique(pl.read_parquet(layout.id_files(partition)))
    records = pl.read_parquet(layout.band_files(partition)).filter(pl.len().over("hash") > 1)
    # Nodes numbered in id order make the pairs (and big buckets' anchors) independent of shards.
    nodes = records.select(_ROW).unique("id").sort("id").with_row_index("node")
    records = records.join(nodes.select("id", "node"), on="id")
    left, right = _dsc.lsh_candidate_pairs(records["hash"], records["node"], cfg.max_bucket_pairs)
    pairs = (
        pl.DataFrame({"left": left, "right": right})
        .join(_suffixed(nodes, "a").rename({"node_a": "left"}), on="left")
        .join(_suffixed(nodes, "b").rename({"node_b": "right"}), on="right")
        .drop("left", "right")
    )
    pairs = pairs.with_columns(
        similarity=_similarity(pairs, ("shard_a", "row_a"), ("shard_b", "row_b"), layout)
    )
    verified = pairs.filter(pl.col("similarity") >= cfg.threshold) if cfg.verify else pairs
    write_parquet(verified.sort("id_a", "id_b"), layout.pairs(partition))
    return {"partition": partition, "candidates": pairs.height, "pairs": verified.height}


def cluster_pairs(files: list[Path], cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 3: connected components of the verified pairs in ``files`` (every partition's),
    and the row kept in each."""
    nodes = _clustered_rows(files)
    node_of = nodes.select("id", "node")
    components = _dsc.UnionFind(nodes.height)
    for path in files:
        pairs = pl.read_parquet(path, columns=["id_a", "id_b"])
        left, right = (
            pairs.join(node_of.rename({"id": f"id_{end}"}), on=f"id_{end}", maintain_order="left")
            for end in ("a", "b")
        )
        components.union(left["node"], right["node"])
    roots, stats = components.components()
    root = pl.col("root")
    members = nodes.with_columns(root=roots).select(
        "id",
        pl.col("id").gather(root).alias(CLUSTER_ID),
        (pl.col("node") == root).alias(KEEP),
        kept_shard=pl.col("shard").gather(root),
        kept_row=pl.col("row").gather(root),
    )
    write_parquet(members, layout.clusters)
    return stats


def filter_shard(shard: Path, cfg: DedupConfig, layout: Layout) -> dict[str, Any]:
    """Stage 4: every row of one shard with its cluster id and keep flag; the removals' audit."""
    rows = pl.read_parquet(shard)
    for name in (CLUSTER_ID, KEEP):
        if name in rows.columns:
            raise DedupInputError(f"{shard}: column '{name}' exists already (it is an output)")
    clusters = pl.read_parquet(layout.clusters)
    unit = cfg.unit_col
    annotated = rows.join(
        clusters.select(pl.col("id").alias(unit), CLUSTER_ID, KEEP),
        on=unit,
        how="left",
        maintain_order="left",
    ).with_columns(pl.coalesce(CLUSTER_ID, unit).alias(CLUSTER_ID), pl.col(KEEP).fill_null(True))
    audit = _audit(rows[unit].unique(maintain_order=True), shard.stem, clusters, layout)
    output = annotated.filter(KEEP) if cfg.drop_removed else annotated
    write_parquet(output, layout.output(shard.stem))
    write_parquet(audit, layout.audit(shard.stem))
    removed = int((~annotated[KEEP]).sum())
    return {"shard": shard.name, "rows": rows.height, "removed": removed, "units": audit.height}


def _audit(ids: pl.Series, shard: str, clusters: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """The removed units of a shard (``ids`` in signature-file order) with the kept unit of
    their cluster and their estimated similarity to it."""
    removed = (
        ids.to_frame("removed_id")
        .with_row_index("row")
        .join(
            clusters.filter(~pl.col(KEEP)).rename({"id": "removed_id", CLUSTER_ID: "kept_id"}),
            on="removed_id",
            maintain_order="left",
        )
        .with_columns(shard=pl.lit(shard))
    )
    similarity = _similarity(removed, ("shard", "row"), ("kept_shard", "kept_row"), layout)
    return removed.select("removed_id", "kept_id", similarity=similarity)


def _clustered_rows(pair_files: list[Path]) -> pl.DataFrame:
    """Every row that is in a pair, once, numbered in keep-preference order (highest rank,
    then smallest id): the union-find root, the smallest node of a component, is kept."""
    seen: pl.DataFrame | None = None
    for path in pair_files:
        ends = pl.concat(
            pl.read_parquet(path, columns=[f"{c}_{end}" for c in _ROW]).rename(
                {f"{c}_{end}": c for c in _ROW}
            )
            for end in ("a", "b")
        )
        seen = (ends if seen is None else pl.concat([seen, ends])).unique()
    if seen is None:
        raise FileNotFoundError("no pair files: stage 2 has not run")
    return seen.sort(["rank", "id"], descending=[True, False]).with_row_index("node")


def _read_checked(shard: Path, cfg: DedupConfig) -> pl.DataFrame:
    """The id, text and rank columns of a shard, with every defect named by file, row and field."""
    optional = [name for name in (cfg.group_col, cfg.rank_col) if name]
    columns = [cfg.id_col, cfg.text_col, *optional]
    schema = pl.read_parquet_schema(shard)
    for name in columns:
        if name not in schema:
            raise DedupInputError(f"{shard}: no column '{name}' (has {list(schema)})")
    if schema[cfg.text_col] != pl.String:
        raise DedupInputError(
            f"{shard}: text column '{cfg.text_col}' must be String, got {schema[cfg.text_col]}"
        )
    if cfg.rank_col and not schema[cfg.rank_col].is_numeric():
        raise DedupInputError(
            f"{shard}: rank column '{cfg.rank_col}' must be numeric, got {schema[cfg.rank_col]}"
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


def _check_ids_are_unique(ids: pl.DataFrame) -> None:
    """Ids must be unique across shards too (stage 1 checks each shard's own); ``ids`` holds
    ``id`` and ``shard`` of every row whose id hashes to one partition."""
    repeated = ids.filter(pl.col("id").is_duplicated()).sort("id", "shard")
    if repeated.height:
        first = repeated.row(0, named=True)
        shards = repeated.filter(pl.col("id") == first["id"])["shard"].to_list()
        raise DedupInputError(f"id {first['id']!r} occurs in more than one row (shards {shards})")


def _similarity(
    frame: pl.DataFrame, left: tuple[str, str], right: tuple[str, str], layout: Layout
) -> pl.Series:
    """The estimated Jaccard of the signatures at ``(shard, row)`` columns ``left`` and
    ``right`` in each row of ``frame``, read from the signature files a slice at a time."""
    parts = []
    for chunk in frame.iter_slices(_PAIR_SLICE):
        shards = pl.concat([chunk[left[0]], chunk[right[0]]]).unique().sort().to_list()
        codes = {name: i for i, name in enumerate(shards)}
        left_file, right_file = (
            chunk[column].replace_strict(codes, return_dtype=pl.UInt32)
            for column in (left[0], right[0])
        )
        parts.append(
            _dsc.signature_pair_similarity(
                [layout.signatures(name) for name in shards],
                left_file,
                chunk[left[1]],
                right_file,
                chunk[right[1]],
            )
        )
    return pl.concat(parts) if parts else pl.Series("similarity", [], dtype=pl.Float64)


def _suffixed(nodes: pl.DataFrame, end: str) -> pl.DataFrame:
    """``nodes`` with every column suffixed by the pair end (``a`` or ``b``)."""
    return nodes.rename({c: f"{c}_{end}" for c in nodes.columns})
