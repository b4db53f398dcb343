"""Decontamination against the benchmarks (PAPER.md §1 stage 5).

A file is contaminated when it shares any 10-gram with a benchmark item (a HumanEval prompt,
solution or test; an MBPP description, solution or test list; a GSM8K question or answer; a
MATH problem or solution); an item shorter than 10 grams but at least 3 long is matched as a
whole. Grams are word tokens: runs of letters, digits, ``_`` and non-ASCII characters, with
whitespace and punctuation only separating them, so reindenting, reformatting, blank lines
and CRLF do not hide a leak (details and the reasons in ``dsc-core``'s ``decont`` module).
Windows made only of numbers are not indexed (``skip_numeric_windows``): number runs in
benchmark tests also fill tables and ranges of unrelated code and prove nothing.

Measured on CPython 3.11's standard library (1,790 ``.py`` files, none of which should be
contaminated): 2.9 % of the files share text with an item under these rules; 4.9 % without
``skip_numeric_windows``; 1.3 % with ``min_exact_tokens=10`` (no short-item matching: the
3-token HumanEval solution ``return x + y`` alone flags 28 files). What remains is mostly
boilerplate such as MBPP's ``def __init__(self, a, b): self.a = a; self.b = b``. Planted
solutions of HumanEval and MBPP (1,138), reindented, respaced, with blank and comment lines
and CRLF, are all found (``tests/test_decontaminate.py``).

The index is built once per process in Rust (:class:`dsc._dsc.DecontIndex`); each file is then
scanned in one pass whose cost does not depend on the number of items. The stage adds audit
columns and removes nothing:

- ``contaminated``: the flag (null for a null file);
- ``decont_benchmark``, ``decont_item_id``: the first item the file shares text with;
- ``decont_span_start``, ``decont_span_end``, ``decont_span_text``: the file's matched bytes,
  from the first shared window to the end of the run of shared windows that follows it.

>>> import polars as pl
>>> from dsc.benchmark_sources import BenchmarkItem
>>> from dsc.decontaminate import build_index, decontaminate
>>> solution = "def add(a, b):\\n    total = a + b\\n    return total if total else a - b\\n"
>>> index = build_index([BenchmarkItem("toy", "0:solution", solution)])
>>> files = pl.LazyFrame({"raw": [b"print('hi')\\n", b"x = 1\\n" + solution.encode()]})
>>> decontaminate(files, index).select("contaminated", "decont_item_id").collect()
shape: (2, 2)
┌──────────────┬────────────────┐
│ contaminated ┆ decont_item_id │
│ ---          ┆ ---            │
│ bool         ┆ str            │
╞══════════════╪════════════════╡
│ false        ┆ null           │
│ true         ┆ 0:solution     │
└──────────────┴────────────────┘
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from dsc._dsc import DecontIndex
from dsc._plugin import plugin_expr, to_expr
from dsc.benchmark_sources import (
    BenchmarkItem,
    BenchmarkSource,
    load_items,
    locate,
    standard_sources,
)

#: The columns the stage adds, in order.
AUDIT_COLUMNS = (
    "contaminated",
    "decont_benchmark",
    "decont_item_id",
    "decont_span_start",
    "decont_span_end",
    "decont_span_text",
)


@dataclass(frozen=True)
class DecontConfig:
    """Which benchmarks are indexed and how; the defaults are the paper's."""

    benchmarks: tuple[str, ...] = ("humaneval", "mbpp", "gsm8k", "math")
    extra_sources: tuple[BenchmarkSource, ...] = ()  # e.g. dsc.benchmark_sources.user_source
    ngram: int = 10  # a shared window of this many tokens marks a file
    min_exact_tokens: int = 3  # shorter items are too generic and are skipped
    skip_numeric_windows: bool = True  # windows of numbers only are not evidence of a leak
    benchmarks_dir: str | None = None  # local copies; else DSC_BENCHMARKS_DIR, else download
    sources: tuple[BenchmarkSource, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.ngram <= 63:
            raise ValueError(
                f"invalid decontamination config: ngram must be in 1..=63, got {self.ngram}"
            )
        if not 1 <= self.min_exact_tokens <= self.ngram:
            raise ValueError(
                "invalid decontamination config: min_exact_tokens must be in 1..=ngram, "
                f"got {self.min_exact_tokens}"
            )
        if not self.benchmarks and not self.extra_sources:
            raise ValueError("invalid decontamination config: no benchmark to index")
        sources = (*standard_sources(self.benchmarks), *self.extra_sources)
        object.__setattr__(self, "sources", sources)


def build_index(items: Iterable[BenchmarkItem], cfg: DecontConfig | None = None) -> DecontIndex:
    """Index ``items`` with the gram settings of ``cfg`` (default: the paper's). Where items
    share a window, the first in order is reported."""
    cfg = cfg or DecontConfig()
    rows = [(item.benchmark, item.item_id, item.text) for item in items]
    return DecontIndex(
        rows,
        ngram=cfg.ngram,
        min_exact_tokens=cfg.min_exact_tokens,
        skip_numeric_windows=cfg.skip_numeric_windows,
    )


def index_from_config(cfg: DecontConfig) -> DecontIndex:
    """Load the configured benchmarks and index them."""
    items = load_items(cfg.sources, benchmarks_dir=cfg.benchmarks_dir)
    return build_index(items, cfg)


def benchmark_fingerprint(cfg: DecontConfig) -> str:
    """A digest of the benchmark files the index of ``cfg`` is built from (name and content
    of each), so that outputs checked against other benchmark data are not reused."""
    digest = hashlib.sha256()
    for source in cfg.sources:
        digest.update(source.name.encode() + b"\0")
        digest.update(hashlib.sha256(locate(source, cfg.benchmarks_dir).read_bytes()).digest())
    return digest.hexdigest()


def contamination(raw: str | pl.Expr, index: DecontIndex) -> pl.Expr:
    """Per file (String or Binary), a struct: ``contaminated``, ``benchmark``, ``item_id``,
    ``span_start``, ``span_end``, ``span_text`` (null fields when clean)."""
    return plugin_expr("decontaminate_expr", to_expr(raw), {"index_key": index.key})


def decontaminate(
    lf: pl.LazyFrame, index: DecontIndex | DecontConfig, *, column: str = "raw"
) -> pl.LazyFrame:
    """Stage 5 over a frame with a ``column`` of file contents: adds :data:`AUDIT_COLUMNS`."""
    if isinstance(index, DecontConfig):
        index = index_from_config(index)
    hit = contamination(column, index).struct.rename_fields(list(AUDIT_COLUMNS))
    return lf.with_columns(hit.alias("_decont")).unnest("_decont")


def drop_contaminated(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Keep the files the stage did not flag (null files are dropped too)."""
    return lf.filter(pl.col("contaminated").not_())
