"""The ``pl.col(...).dsc`` expression namespace: the typed functions as methods.

Importing :mod:`dsc` registers it, so ``pl.col("content").dsc.text_stats()`` is the same
expression as ``dsc.filters.text_stats("content")``.
"""

from __future__ import annotations

import polars as pl

from dsc import filters


@pl.api.register_expr_namespace("dsc")
class DscNamespace:
    """Methods over one expression; see the module of each function for its docs."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def text_stats(self) -> pl.Expr:
        return filters.text_stats(self._expr)

    def html_visible_chars(self) -> pl.Expr:
        return filters.html_visible_chars(self._expr)

    def decode_text(self, probe: filters.BinaryProbe | None = None) -> pl.Expr:
        return filters.decode_text(self._expr, probe)

    def filter_reason(
        self, lang: str | pl.Expr, cfg: filters.FilterConfig | None = None
    ) -> pl.Expr:
        return filters.filter_reason(self._expr, lang, cfg)
