"""Atomic output: a reader sees a whole file or none, even if the writer is killed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl


def _replace(tmp: Path, final: Path) -> None:
    # fsync before rename so a crash cannot leave a complete-looking but empty file.
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.write_parquet(tmp, compression="zstd")
    _replace(tmp, path)


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as indented JSON with sorted keys, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    _replace(tmp, path)
