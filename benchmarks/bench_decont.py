"""Decontamination speed on real code: the hashed n-gram index against bigcode-style search.

The anchor is the approach of bigcode's decontamination script: for each file, a substring
search of every benchmark string (``text in content``, CPython's fast search). It is measured
on a sample of the same files in the same run, and both speeds are given per core (one Polars
thread, one Rayon thread). Run: ``python benchmarks/bench_decont.py [--mb 200]``.
"""

from __future__ import annotations

import os

# One core for both engines: set before Polars and the plugin's Rayon pool start.
os.environ["POLARS_MAX_THREADS"] = "1"
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse
import time

import polars as pl

from dsc.benchmark_sources import load_records
from dsc.decontaminate import DecontConfig, build_index, decontaminate
from dsc.filters import detect_language
from dsc.sources import machine_repositories, read_repositories

MB = 1 << 20


def real_code(min_mb: int) -> pl.DataFrame:
    """Files of the machine's repositories in a known language, at least ``min_mb`` MB."""
    # About half of the bytes on disk are in a detected language: read enough to keep min_mb.
    frame = read_repositories(machine_repositories(), max_bytes=min_mb * 4 * MB)
    frame = frame.with_columns(lang=detect_language("path", "raw")).filter(
        pl.col("lang").is_not_null()
    )
    sizes = frame["raw"].bin.size().cum_sum()
    return frame.filter(sizes <= min_mb * MB)


def bigcode_style(contents: list[str], strings: list[str]) -> int:
    """Files containing any benchmark string as a substring."""
    return sum(any(s in content for s in strings) for content in contents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200, help="MB of real code to scan")
    parser.add_argument("--anchor-mb", type=float, default=1.0, help="MB for the slow anchor")
    args = parser.parse_args()

    records = load_records(DecontConfig().sources)
    t0 = time.perf_counter()
    index = build_index(records)
    build_s = time.perf_counter() - t0
    print(f"index: {len(records)} records, {index.stats}, built in {build_s:.2f} s")

    files = real_code(args.mb)
    total = files["raw"].bin.size().sum()
    print(
        f"corpus: {files.height} files, {total / MB:.1f} MB, languages {files['lang'].n_unique()}"
    )

    t0 = time.perf_counter()
    out = decontaminate(files.lazy().select("raw", "lang"), index, lang="lang")
    out = out.select("contaminated").collect()
    fast_s = time.perf_counter() - t0
    fast = total / MB / fast_s
    flagged = out["contaminated"].sum()
    print(f"dsc n-gram index: {fast_s:.2f} s, {fast:.1f} MB/s per core, {flagged} files flagged")

    # The anchor on an evenly spread sample of the same files.
    step = max(1, int(total / (args.anchor_mb * MB)))
    sample = files.gather_every(step)
    contents = [raw.decode("utf-8", errors="replace") for raw in sample["raw"]]
    sample_mb = sum(len(raw) for raw in sample["raw"]) / MB
    strings = [f.text for record in records for f in record.fields if f.text.strip()]
    t0 = time.perf_counter()
    anchor_flagged = bigcode_style(contents, strings)
    slow_s = time.perf_counter() - t0
    slow = sample_mb / slow_s
    print(
        f"bigcode-style substring search: {sample.height} files, {sample_mb:.2f} MB in "
        f"{slow_s:.2f} s, {slow:.3f} MB/s per core, {anchor_flagged} files flagged"
    )
    print(f"ratio: {fast / slow:.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
