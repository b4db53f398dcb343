"""Throughput of the stage-1 file filters on real code, per core.

    python benchmarks/bench_filters.py [--mb 200] [--python-mb 8]

Reads at least ``--mb`` MB of the machine's own Python, C and Rust sources (standard library,
site-packages, cargo's crate sources) and times, in the same run, on one thread:
  * dsc's Rust plugin (``dsc.filters.filter_reason``),
  * the same rules in pure Python (``dsc.filters_reference``, on a ``--python-mb`` sample),
  * the same rules with Polars' built-in string expressions.
Targets (issue 2): >= 20x pure Python, >= 3x Polars built-ins, >= 500 MB/s per core.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"  # per-core figures: must precede the polars import

import argparse
import time
from collections.abc import Callable

import polars as pl

from dsc import filters
from dsc import filters_reference as ref
from dsc.filters import FilterConfig
from dsc.sources import machine_repositories, read_repositories

SOURCE_SUFFIXES = (".py", ".pyi", ".rs", ".c", ".h")


def load_sources(min_mb: int) -> pl.DataFrame:
    repos = machine_repositories()
    df = read_repositories(repos, max_bytes=int(min_mb * 1.05e6), suffixes=SOURCE_SUFFIXES)
    df = df.with_columns(lang=filters.detect_language("path", "raw"))
    mb = df["raw"].bin.size().sum() / 1e6
    if mb < min_mb:
        raise SystemExit(f"only {mb:.0f} MB of source found on this machine (< {min_mb} MB)")
    return df


def builtin_reason(cfg: FilterConfig) -> pl.Expr:
    """The rules with Polars' own string expressions (lines split on \\n only)."""
    text = pl.col("content")
    n = text.str.len_chars()
    line_lens = text.str.split("\n").list.eval(pl.element().str.len_chars())
    head = text.str.split("\n").list.head(cfg.generated_scan_lines).list.join("\n")
    generated = head.str.to_lowercase().str.contains_any(list(cfg.generated_markers))
    markup = r"(?is)<script.*?</script>|<style.*?</style>|<!--.*?-->|<[a-z/!?][^>]*>"
    visible = text.str.replace_all(markup, "").str.replace_all(r"\s+", " ").str.len_chars()
    is_html = pl.col("lang").is_in(list(cfg.html_languages))
    is_data = pl.col("lang").is_in(list(cfg.data_languages))
    return (
        pl.when(n == 0).then(pl.lit("empty"))
        .when(generated).then(pl.lit("generated"))
        .when(line_lens.list.max() >= cfg.max_line_len).then(pl.lit("max_line_length"))
        .when(line_lens.list.mean() >= cfg.max_avg_line_len).then(pl.lit("avg_line_length"))
        .when(text.str.count_matches(r"\p{L}") / n < cfg.min_alpha_frac)
        .then(pl.lit("alpha_fraction"))
        .when(is_html & (visible < cfg.html_min_visible_frac * n))
        .then(pl.lit("html_visible_fraction"))
        .when(is_html & (visible < cfg.html_min_visible_chars)).then(pl.lit("html_visible_chars"))
        .when(is_data & (n < cfg.data_min_chars)).then(pl.lit("data_too_short"))
        .when(is_data & (n > cfg.data_max_chars)).then(pl.lit("data_too_long"))
    )  # fmt: skip


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--python-mb", type=int, default=8)
    args = parser.parse_args()
    cfg = FilterConfig()
    df = load_sources(args.mb)
    mb = df["raw"].bin.size().sum() / 1e6
    print(f"corpus: {df.height:,} files, {mb:,.1f} MB of real source")

    plugin_s = timed(lambda: df.select(filters.filter_reason("raw", "lang", cfg)))
    # Built-ins cannot reject invalid UTF-8 per row: give them decoded text (untimed).
    utf8 = df.with_columns(content=filters.decode_text("raw")).drop_nulls("content")
    builtin_s = timed(lambda: utf8.select(builtin_reason(cfg)))
    builtin_mb = utf8["content"].str.len_bytes().sum() / 1e6
    sample = df.sample(fraction=min(1.0, args.python_mb / mb), seed=0)
    sample_mb = sample["raw"].bin.size().sum() / 1e6
    rows = list(zip(sample["raw"], sample["lang"], strict=True))
    python_s = timed(lambda: [ref.filter_reason(raw, lang, cfg) for raw, lang in rows])

    plugin, builtin, python = mb / plugin_s, builtin_mb / builtin_s, sample_mb / python_s
    print(f"dsc plugin (Rust)        {plugin:9.1f} MB/s per core")
    print(f"Polars built-ins         {builtin:9.1f} MB/s per core")
    print(f"pure Python ({sample_mb:.0f} MB)     {python:9.1f} MB/s per core")
    print(f"ratio vs pure Python     {plugin / python:9.1f}x   (target >= 20x)")
    print(f"ratio vs Polars built-in {plugin / builtin:9.1f}x   (target >= 3x)")
    print(f"absolute                 {plugin:9.1f} MB/s   (target >= 500 MB/s per core)")


if __name__ == "__main__":
    main()
