"""Screening speed and drop rates on the machine's real code.

Prints tree-sitter files/s and MB/s per core (one Polars thread, one Rayon thread) by
language, and the share of files the default :class:`dsc.screen.ScreenConfig` drops, by
reason. The files are published code, so every syntax drop of a language is a false drop of
its grammar: these are the figures the defaults in ``dsc.screen`` are chosen from.
Every language's files are read in the order of :func:`dsc.sources.machine_repositories`,
up to ``--mb`` MB each. Run: ``python benchmarks/bench_screen.py [--mb 25]``.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse
import time

import polars as pl

from dsc.filters import detect_language
from dsc.screen import ScreenConfig, screen, syntax_check
from dsc.sources import machine_repositories, read_repositories

MB = 1 << 20
GRAMMAR_LANGUAGES = [
    "Python",
    "Java",
    "C",
    "C++",
    "C#",
    "JavaScript",
    "TypeScript",
    "Go",
    "Rust",
    "PHP",
    "Ruby",
    "Shell",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=25, help="MB per language at most")
    args = parser.parse_args()
    files = read_repositories(machine_repositories())
    files = (
        files.with_columns(lang=detect_language("path", "raw"))
        .filter(pl.col("lang").is_in(GRAMMAR_LANGUAGES))
        .filter((pl.col("raw").bin.size().cum_sum().over("lang")) <= args.mb * MB)
    )
    size = pl.col("raw").bin.size()

    cfg = ScreenConfig()
    for lang, group in files.group_by("lang", maintain_order=True):
        t0 = time.perf_counter()
        group.lazy().select(syntax_check("raw", "lang", cfg)).collect()
        seconds = time.perf_counter() - t0
        mb = group["raw"].bin.size().sum() / MB
        print(
            f"tree-sitter {lang[0]}: {group.height} files, {mb:.1f} MB in {seconds:.1f} s: "
            f"{group.height / seconds:.0f} files/s, {mb / seconds:.2f} MB/s per core"
        )

    out = screen(files.lazy(), cfg).collect()
    by_lang = (
        out.group_by("lang")
        .agg(
            files=pl.len(),
            mb=size.sum() / MB,
            syntax_dropped=pl.col("screen_reason").str.starts_with("syntax").sum(),
            any_error=(~pl.col("syntax_clean")).sum(),
            quality_dropped=pl.col("quality_reason").is_not_null().sum(),
        )
        .with_columns(
            syntax_drop_rate=pl.col("syntax_dropped") / pl.col("files"),
            any_error_rate=pl.col("any_error") / pl.col("files"),
            quality_drop_rate=pl.col("quality_dropped") / pl.col("files"),
        )
        .sort("files", descending=True)
    )
    with pl.Config(tbl_rows=40, tbl_cols=20, tbl_width_chars=200):
        print(by_lang)
        reasons = out.group_by("screen_reason").len().sort("len", descending=True)
        print(reasons.with_columns(share=pl.col("len") / out.height))


if __name__ == "__main__":
    main()
