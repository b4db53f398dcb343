"""MinHash and LSH as Polars expressions (Rust, parallel over rows).

>>> import polars as pl
>>> from dsc.dedup import DedupConfig, minhash_signature, minhash_similarity
>>> cfg = DedupConfig(num_perm=64)
>>> df = pl.DataFrame({"text": ["def f(x): return x + 1", "DEF f(x):\\n  return x + 1"]})
>>> sig = df.select(minhash_signature("text", cfg))
>>> sig.select(minhash_similarity(pl.col("text").first(), pl.col("text").last())).item()
1.0
"""

from __future__ import annotations

import polars as pl

from dsc._plugin import plugin_expr, to_expr
from dsc.dedup.config import DedupConfig


def minhash_signature(text: str | pl.Expr, cfg: DedupConfig | None = None) -> pl.Expr:
    """The ``List(UInt64)`` MinHash signature of each String row (null stays null)."""
    kwargs = (cfg or DedupConfig()).minhash_kwargs()
    return plugin_expr("minhash_signature_expr", to_expr(text), kwargs)


def minhash_sketch(text: str | pl.Expr, cfg: DedupConfig | None = None) -> pl.Expr:
    """The mergeable ``List(UInt64)`` sketch of each String row: the element-wise minimum of
    sketches is the sketch of the union of their shingles, and :func:`minhash_finish` makes a
    sketch the signature (for ``scheme="oph"`` by densifying it; a signature cannot be merged)."""
    kwargs = (cfg or DedupConfig()).minhash_kwargs()
    return plugin_expr("minhash_sketch_expr", to_expr(text), kwargs)


def minhash_finish(sketch: str | pl.Expr, cfg: DedupConfig | None = None) -> pl.Expr:
    """The signature of each sketch of :func:`minhash_sketch` (of one text or a merged group)."""
    kwargs = (cfg or DedupConfig()).minhash_kwargs()
    return plugin_expr("minhash_finish_expr", to_expr(sketch), kwargs)


def band_hashes(signature: str | pl.Expr, bands: int, rows: int) -> pl.Expr:
    """One hash per LSH band of each signature; the band index is mixed into the hash."""
    kwargs = {"bands": bands, "rows": rows}
    return plugin_expr("minhash_band_hashes_expr", to_expr(signature), kwargs)


def minhash_similarity(left: str | pl.Expr, right: str | pl.Expr) -> pl.Expr:
    """The estimated Jaccard similarity of two signature columns, row by row."""
    return plugin_expr("minhash_similarity_expr", [to_expr(left), to_expr(right)])
