"""The typed configuration of ``python -m dsc.build_corpus``, loadable from TOML."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dsc.filters import FilterConfig


@dataclass(frozen=True)
class CorpusConfig:
    """Everything a corpus build depends on; its fingerprint guards resumed runs."""

    filters: FilterConfig = field(default_factory=FilterConfig)
    # Repositories are packed into shards of about this many raw bytes; a shard is the unit
    # of work, of resumption and of distribution (a repository is never split).
    shard_bytes: int = 64 << 20
    # Larger files are not read at all (they would fail the line-length rules anyway).
    max_file_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if self.shard_bytes <= 0 or self.max_file_bytes <= 0:
            raise ValueError("invalid corpus config: shard_bytes and max_file_bytes must be > 0")

    def fingerprint(self) -> dict[str, Any]:
        """The config as plain JSON values, stored with every shard's completion marker."""
        fingerprint: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return fingerprint


def load_config(path: Path) -> CorpusConfig:
    """Read a TOML file whose tables mirror :class:`CorpusConfig` (unknown keys are errors)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read corpus config: {exc}") from exc
    known = {f.name for f in fields(CorpusConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown config keys {unknown}; known: {sorted(known)}")
    try:
        filters = data.pop("filters", {})
        filters = {k: tuple(v) if isinstance(v, list) else v for k, v in filters.items()}
        return CorpusConfig(filters=FilterConfig(**filters), **data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
