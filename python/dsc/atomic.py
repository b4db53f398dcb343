"""Atomic output: a reader sees a whole file or none, even if the writer is killed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl


def _replace(tmp: Path, final: Path) -> None:
    # fsync before rename so a crash cannot leave a complete-looking but empty file.
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def write_with(write: Callable[[Path], object], path: Path) -> None:
    """Run ``write(tmp)`` on a temporary file in ``path``'s directory, then move it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    _replace(tmp, path)


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` atomically."""
    write_with(lambda tmp: df.write_parquet(tmp, compression="zstd"), path)


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as indented JSON with sorted keys, atomically."""
    write_with(lambda tmp: tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n"), path)
