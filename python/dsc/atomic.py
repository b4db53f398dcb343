"""Atomic output: a reader sees a whole file or none, even if the writer is killed."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl


def _replace(tmp: Path, final: Path) -> None:
    # fsync before rename so a crash cannot leave a complete-looking but empty file, and the
    # directory after it so that the rename itself survives a crash.
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_with(write: Callable[[Path], object], path: Path) -> None:
    """Run ``write(tmp)`` on a temporary file in ``path``'s directory, then move it to ``path``.

    The temporary name is unique (``.NAME.RANDOM.tmp``), so writers of the same file at the
    same time (a retried Ray task and the original) never write into each other's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        _replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: Rows per parquet row group: Polars' own default, but stated, because without it Polars
#: cuts row groups where the frame's chunks end, and the same rows read in batches (or by
#: another number of threads) would be written as other bytes.
ROW_GROUP_ROWS = 512 * 512


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` atomically; its bytes depend on its rows, not its chunks."""
    write_with(
        lambda tmp: df.write_parquet(tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS),
        path,
    )


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as indented JSON with sorted keys, atomically."""
    write_with(lambda tmp: tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n"), path)
