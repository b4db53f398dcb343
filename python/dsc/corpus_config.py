"""The typed configuration of ``python -m dsc.build_corpus``, loadable from TOML."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from dsc.decontaminate import DecontConfig
from dsc.dedup import DedupConfig
from dsc.filters import FilterConfig
from dsc.ordering import OrderingConfig
from dsc.screen import ScreenConfig


@dataclass(frozen=True)
class CorpusConfig:
    """Everything a corpus build depends on; its fingerprint guards resumed runs.

    One table per stage, in pipeline order (TOML: ``[filters]``, ``[screen]``, ...).
    """

    filters: FilterConfig = field(default_factory=FilterConfig)
    screen: ScreenConfig = field(default_factory=ScreenConfig)
    decontaminate: DecontConfig = field(default_factory=DecontConfig)
    ordering: OrderingConfig = field(default_factory=OrderingConfig)
    # The corpus keeps one sample per near-duplicate cluster; the rest go to dedup's audit.
    dedup: DedupConfig = field(default_factory=lambda: DedupConfig(drop_removed=True))
    # Repositories are packed into shards of about this many raw bytes; a shard is the unit
    # of work, of resumption and of distribution (a repository is never split).
    shard_bytes: int = 64 << 20
    # Larger files are not read at all (they would fail the line-length rules anyway); the
    # audit lists them with reason too_large.
    max_file_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if self.shard_bytes <= 0 or self.max_file_bytes <= 0:
            raise ValueError("invalid corpus config: shard_bytes and max_file_bytes must be > 0")
        if (self.dedup.id_col, self.dedup.text_col) != ("id", "text"):
            raise ValueError("invalid corpus config: dedup runs on the samples' id and text")

    def fingerprint(self) -> dict[str, Any]:
        """The config as plain JSON values, stored with every shard's completion marker."""
        fingerprint: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        return fingerprint


def _updated(default: Any, table: dict[str, Any]) -> Any:
    """``default`` (a config dataclass) with the values of a TOML table: lists become tuples,
    and sub-tables update the nested config, so unnamed settings keep their defaults."""
    values = {}
    for key, value in table.items():
        current = getattr(default, key, None)
        if isinstance(value, dict) and is_dataclass(current):
            values[key] = _updated(current, value)
        else:
            values[key] = tuple(value) if isinstance(value, list) else value
    return replace(default, **values)


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
        config: CorpusConfig = _updated(CorpusConfig(), data)
        return config
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
