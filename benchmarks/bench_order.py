"""Benchmark of repository-level ordering (DeepSeek-Coder §2.2).

1. Import extraction and resolution on real code (the machine's stdlib and site-packages), in
   MB/s on one core (``RAYON_NUM_THREADS=1`` is set before dsc is imported), with the share of
   import statements resolved per language.
2. Algorithm 1 (refined: strongly connected components in topological order, the min-in-degree
   rule inside each) on a synthetic repository of 1e5 files and 1e6 import edges: edges/s of the
   Rust implementation against a straightforward Python one (heapq, same algorithm, same
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
    """Refined Algorithm 1, written plainly in Python with heapq: the anchor."""
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
    component = strong_components(n, out)
    members: dict[int, list[int]] = {}
    component_in = [0] * n
    for v in range(n):
        members.setdefault(component[v], []).append(v)
        for w in out[v]:
            component_in[component[w]] += component[w] != component[v]
    groups: dict[int, list[int]] = {}
    for v in range(n):
        groups.setdefault(find(v), []).append(v)
    emitted = [False] * n
    order: list[int] = []
    for nodes in groups.values():
        ready = [(v, component[v]) for v in nodes if members[component[v]][0] == v]
        ready = [entry for entry in ready if component_in[entry[1]] == 0]
        heapq.heapify(ready)
        while ready:
            _, c = heapq.heappop(ready)
            start = len(order)
            heap = [(in_degree[v], v) for v in members[c]]
            heapq.heapify(heap)
            while heap:
                degree, v = heapq.heappop(heap)
                if emitted[v] or in_degree[v] != degree:
                    continue
                emitted[v] = True
                order.append(v)
                for w in out[v]:
                    if component[w] == c and not emitted[w]:
                        in_degree[w] -= 1
                        heapq.heappush(heap, (in_degree[w], w))
            for v in order[start:]:
                for w in out[v]:
                    if component[w] != c:
                        in_degree[w] -= 1
                        component_in[component[w]] -= 1
                        if component_in[component[w]] == 0:
                            heapq.heappush(ready, (members[component[w]][0], component[w]))
    return order


def strong_components(n: int, out: list[list[int]]) -> list[int]:
    """Tarjan's algorithm, iterative: the component number of every node."""
    index, low, component = [-1] * n, [0] * n, [-1] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = components = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        path = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while path:
            v, i = path[-1]
            if i < len(out[v]):
                path[-1] = (v, i + 1)
                w = out[v][i]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    path.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            path.pop()
            if path:
                low[path[-1][0]] = min(low[path[-1][0]], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component[w] = components
                    if w == v:
                        break
                components += 1
    return component


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
