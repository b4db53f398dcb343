"""Decontamination against the benchmarks (DeepSeek-Coder §2.4).

The paper removes a file that shares any 10-gram with a test item. Here a gram is 10 words
*and the punctuation between them*, read after comments are stripped, and only grams that
identify their record are indexed (the rule and its reasons in ``dsc-core``'s ``decont``
module):

- operators and punctuation count: ``return x, y`` does not match ``return x + y``;
  whitespace does not count, so reindenting, respacing, blank lines and CRLF hide nothing;
- comments are stripped on both sides, in the benchmark's language and in the file's
  (``lang``), so a comment can neither hide a leak nor make one; an escape such as ``\\n``
  is punctuation, not the word ``n``;
- a word held by more than ``generic_share`` (5 %) of its benchmark's records is generic
  (``for``, ``range``, ``i``, ``0``, ``the``, a harness every test shares); a gram is indexed
  only with at least ``min_distinct_words`` (3) distinct words that are not;
- a record's fields are indexed as one text, so a short item (HumanEval/53's solution
  ``return x + y``) is matched only inside its prompt or tests, never alone. The paper's exact
  match of items of 3-9 grams is dropped.

The index covers every benchmark the evals package scores (:data:`DEFAULT_BENCHMARKS`).
Measured (``tests/test_decontaminate.py``; before: the paper's rule on HumanEval, MBPP, GSM8K
and MATH): on ``../shared/repos`` 2 of 3,116 clean files flagged (before 4); on this
machine's standard library and site-packages (the README's default input) 51 of 23,159
(0.22 %; before 334, 1.44 %); planted leaks of every record of every benchmark, reformatted,
with comments added and removed, inside real files of their language: 23,126 of 23,197
found (99.7 %; before 75.2 %). What is still flagged is text the benchmarks quote from public
code (tracebacks and library docs in DS-1000 prompts, MBPP's ``def __init__(self, a, b)``);
what is missed are records too small to identify once comments are stripped.

The index is built once per process in Rust (:class:`dsc._dsc.DecontIndex`); each file is then
scanned in one pass whose cost does not depend on the number of records. The stage adds audit
columns and removes nothing:

- ``contaminated``: the flag (null for a null file);
- ``decont_benchmark``, ``decont_item_id``: the record and field the first shared gram starts
  in (``HumanEval/0:prompt``);
- ``decont_span_start``, ``decont_span_end``, ``decont_span_text``: the file's matched bytes,
  from the first shared gram to the end of the run of shared grams that follows it.

>>> import polars as pl
>>> from dsc.benchmark_sources import BenchmarkField, BenchmarkRecord
>>> from dsc.decontaminate import DecontConfig, build_index, decontaminate
>>> solution = "def add(a, b):\\n    total = a + b  # sum\\n    return total if total else a - b\\n"
>>> record = BenchmarkRecord("toy", "0", (BenchmarkField("solution", "Python", solution),))
>>> index = build_index([record])
>>> leak = b"x = 1\\n" + solution.replace("# sum", "# add them").encode()
>>> files = pl.LazyFrame({"raw": [b"print('hi')\\n", leak], "lang": ["Python", "Python"]})
>>> decontaminate(files, index, lang="lang").select("contaminated", "decont_item_id").collect()
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
    STANDARD_SOURCES,
    BenchmarkRecord,
    BenchmarkSource,
    load_records,
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


#: Every benchmark the evals package scores (DeepSeek-Coder names HumanEval, MBPP, GSM8K, MATH).
DEFAULT_BENCHMARKS = tuple(STANDARD_SOURCES)


@dataclass(frozen=True)
class DecontConfig:
    """Which benchmarks are indexed and how."""

    benchmarks: tuple[str, ...] = DEFAULT_BENCHMARKS
    extra_sources: tuple[BenchmarkSource, ...] = ()  # e.g. dsc.benchmark_sources.user_source
    ngram: int = 10  # a shared gram of this many words (and the punctuation between) marks a file
    min_distinct_words: int = 1  # an indexed gram holds this many distinct non-generic words
    generic_share: float = 0.05  # a word in more of its benchmark's records is generic
    benchmarks_dir: str | None = None  # local copies; else DSC_BENCHMARKS_DIR, else download
    sources: tuple[BenchmarkSource, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.ngram <= 64:
            raise ValueError(
                f"invalid decontamination config: ngram must be in 1..=64, got {self.ngram}"
            )
        if not 0 <= self.min_distinct_words <= self.ngram:
            raise ValueError(
                "invalid decontamination config: min_distinct_words must be in 0..=ngram, "
                f"got {self.min_distinct_words}"
            )
        if not 0 < self.generic_share <= 1:
            raise ValueError(
                "invalid decontamination config: generic_share must be in (0, 1], "
                f"got {self.generic_share}"
            )
        if not self.benchmarks and not self.extra_sources:
            raise ValueError("invalid decontamination config: no benchmark to index")
        sources = (*standard_sources(self.benchmarks), *self.extra_sources)
        object.__setattr__(self, "sources", sources)


def build_index(records: Iterable[BenchmarkRecord], cfg: DecontConfig | None = None) -> DecontIndex:
    """Index ``records`` with the gram settings of ``cfg`` (default: :class:`DecontConfig`).
    Where records share a gram, the first in order is reported."""
    cfg = cfg or DecontConfig()
    rows = [
        (record.benchmark, record.record_id, [tuple(f) for f in record.fields])
        for record in records
    ]
    return DecontIndex(
        rows,
        ngram=cfg.ngram,
        min_distinct_words=cfg.min_distinct_words,
        generic_share=cfg.generic_share,
    )


def index_from_config(cfg: DecontConfig) -> DecontIndex:
    """Load the configured benchmarks and index them."""
    return build_index(load_records(cfg.sources, benchmarks_dir=cfg.benchmarks_dir), cfg)


def benchmark_fingerprint(cfg: DecontConfig) -> str:
    """A digest of the benchmark files the index of ``cfg`` is built from (name and content
    of each), so that outputs checked against other benchmark data are not reused."""
    digest = hashlib.sha256()
    for source in cfg.sources:
        digest.update(source.name.encode() + b"\0")
        digest.update(hashlib.sha256(locate(source, cfg.benchmarks_dir).read_bytes()).digest())
    return digest.hexdigest()


def contamination(
    raw: str | pl.Expr, index: DecontIndex, lang: str | pl.Expr | None = None
) -> pl.Expr:
    """Per file (String or Binary) in language ``lang`` (Linguist names; None: no comments are
    stripped), a struct: ``contaminated``, ``benchmark``, ``item_id``, ``span_start``,
    ``span_end``, ``span_text`` (null fields when clean)."""
    # A column of nulls only (no language known) comes as type Null: the plugin reads strings.
    args = [to_expr(raw)] if lang is None else [to_expr(raw), to_expr(lang).cast(pl.String)]
    return plugin_expr("decontaminate_expr", args, {"index_key": index.key})


def decontaminate(
    lf: pl.LazyFrame,
    index: DecontIndex | DecontConfig,
    *,
    column: str = "raw",
    lang: str | None = None,
) -> pl.LazyFrame:
    """Stage 5 over a frame with a ``column`` of file contents and, when named, a ``lang``
    column of their languages (whose comments are stripped): adds :data:`AUDIT_COLUMNS`."""
    if isinstance(index, DecontConfig):
        index = index_from_config(index)
    hit = contamination(column, index, lang).struct.rename_fields(list(AUDIT_COLUMNS))
    return lf.with_columns(hit.alias("_decont")).unnest("_decont")


def drop_contaminated(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Keep the files the stage did not flag (null files are dropped too)."""
    return lf.filter(pl.col("contaminated").not_())
