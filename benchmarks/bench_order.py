"""Benchmark of repository-level ordering (PAPER.md §1 stage 2).

1. Import extraction and resolution on real code (the machine's stdlib and site-packages), in
   MB/s on one core (``RAYON_NUM_THREADS=1`` is set before dsc is imported), with the share of
   import statements resolved per language.
2. Algorithm 1 on a synthetic repository of 1e5 files and 1e6 import edges: edges/s of the
   Rust heap implementation against a straightforward Python one (heapq, same algorithm, same
   tie-breaking) measured in the same run; target >= 1M edges/s.

Run: ``python benchmarks/bench_order.py [--max-mb 200] [--nodes 100000] [--edges 1000000]``.
"""

from __future__ import annotations

import argparse
import heapq
import os
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # before dsc loads: the figures are per core

import numpy as np
import polars as pl

from dsc import filters, sources
from dsc.ordering import file_imports, min_in_degree_order


def real_files(max_bytes: int) -> pl.DataFrame:
    repos = sources.stdlib_repositories() + sources.site_packages_repositories()
    raw = sources.read_repositories(repos, max_bytes=max_bytes)
    return (
        raw.with_columns(
            lang=filters.detect_language("path", "raw"), content=filters.decode_text("raw")
        )
        .filter(pl.col("content").is_not_null())
        .select("repo", "path", "lang", "content")
    )


def bench_extraction(max_mb: int) -> None:
    files = real_files(max_mb << 20)
    megabytes = files["content"].str.len_bytes().sum() / 1e6
    start = time.perf_counter()
    imports = file_imports(files)
    seconds = time.perf_counter() - start
    print(f"extraction: {files.height} files, {megabytes:.1f} MB, {seconds:.2f} s")
    print(f"extraction: {megabytes / seconds:.1f} MB/s on one core")
    shares = (
        imports.join(files.select("repo", "path", "lang"), on=["repo", "path"])
        .filter(pl.col("lang").is_not_null())
        .group_by("lang")
        .agg(
            statements=pl.col("imports").list.len().sum(),
            unresolved=pl.col("unresolved").list.len().sum(),
        )
        .filter(pl.col("statements") > 0)
        .with_columns(resolved_share=(1 - pl.col("unresolved") / pl.col("statements")).round(3))
        .sort("statements", descending=True)
    )
    with pl.Config(tbl_rows=30):
        print(shares)


def python_order(n: int, sources_: list[int], targets: list[int]) -> list[int]:
    """Algorithm 1, written plainly in Python with heapq: the anchor."""
    edges = sorted({(a, b) for a, b in zip(sources_, targets, strict=True) if a != b})
    parent = list(range(n))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    out: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for a, b in edges:
        out[a].append(b)
        in_degree[b] += 1
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for v in range(n):
        groups.setdefault(find(v), []).append(v)
    emitted = [False] * n
    order: list[int] = []
    for nodes in groups.values():
        heap = [(in_degree[v], v) for v in nodes]
        heapq.heapify(heap)
        while heap:
            degree, v = heapq.heappop(heap)
            if emitted[v] or in_degree[v] != degree:
                continue
            emitted[v] = True
            order.append(v)
            for w in out[v]:
                if not emitted[w]:
                    in_degree[w] -= 1
                    heapq.heappush(heap, (in_degree[w], w))
    return order


def bench_toposort(nodes: int, edges: int) -> None:
    rng = np.random.default_rng(0)
    src = rng.integers(0, nodes, edges, dtype=np.uint32)
    dst = rng.integers(0, nodes, edges, dtype=np.uint32)
    start = time.perf_counter()
    rust = min_in_degree_order(nodes, pl.Series(src), pl.Series(dst))
    rust_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = python_order(nodes, src.tolist(), dst.tolist())
    python_s = time.perf_counter() - start
    assert rust["node"].to_list() == reference, "Rust and Python orders differ"
    print(f"toposort: {nodes} nodes, {edges} edges, orders identical")
    print(f"toposort rust:   {rust_s:.3f} s = {edges / rust_s / 1e6:.2f} M edges/s (target >= 1)")
    print(f"toposort python: {python_s:.3f} s = {edges / python_s / 1e6:.2f} M edges/s")
    print(f"toposort speed-up over python: {python_s / rust_s:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=int, default=200, help="real code to read, in MB")
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_extraction(args.max_mb)
    bench_toposort(args.nodes, args.edges)


if __name__ == "__main__":
    main()
