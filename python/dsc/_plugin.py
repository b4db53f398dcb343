"""One place that turns a Rust `#[polars_expr]` into a Polars expression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from polars.plugins import register_plugin_function

# The compiled module `_dsc` sits next to this file; Polars finds the shared library there.
_LIB = Path(__file__).parent


def plugin_expr(
    name: str,
    args: pl.Expr | list[pl.Expr],
    kwargs: dict[str, Any] | None = None,
    *,
    elementwise: bool = True,
    changes_length: bool = False,
) -> pl.Expr:
    """Call the Rust expression ``name`` on ``args`` with typed ``kwargs``.

    ``elementwise`` tells Polars it may split the column into chunks and run them in
    parallel (and stream them), which is true of every per-row function in dsc.
    """
    return register_plugin_function(
        plugin_path=_LIB,
        function_name=name,
        args=args,
        kwargs=kwargs,
        is_elementwise=elementwise,
        changes_length=changes_length,
    )


def to_expr(value: str | pl.Expr) -> pl.Expr:
    """Accept a column name or an expression, as Polars functions do."""
    return pl.col(value) if isinstance(value, str) else value
