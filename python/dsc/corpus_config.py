"""The typed configuration of ``python -m dsc.build_corpus``, loadable from TOML.

``python -m dsc.corpus_config --dump`` prints every setting with its default, as a TOML file
that ``--config`` reads back.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from dsc.decontaminate import DecontConfig
from dsc.dedup import DedupConfig
from dsc.filters import FilterConfig
from dsc.ordering import OrderingConfig
from dsc.redact import RedactConfig
from dsc.screen import ScreenConfig
from dsc.table_source import TableColumns

DedupLevel = Literal["repository", "sample"]
DedupKeep = Literal["newest", "largest", "stars"]


@dataclass(frozen=True)
class CorpusConfig:
    """Everything a corpus build depends on; its fingerprint guards resumed runs.

    One table per stage, in pipeline order (TOML: ``[filters]``, ``[screen]``, ...).
    """

    # The columns of Parquet/JSONL inputs (default: The Stack v1's names).
    input: TableColumns = field(default_factory=TableColumns)
    filters: FilterConfig = field(default_factory=FilterConfig)
    redact: RedactConfig = field(default_factory=RedactConfig)
    screen: ScreenConfig = field(default_factory=ScreenConfig)
    decontaminate: DecontConfig = field(default_factory=DecontConfig)
    ordering: OrderingConfig = field(default_factory=OrderingConfig)
    # The corpus keeps one unit per near-duplicate cluster; the rest go to dedup's audit.
    dedup: DedupConfig = field(default_factory=lambda: DedupConfig(drop_removed=True))
    # "repository" (the paper's): a repository's samples are one unit for near-dedup, so a
    # duplicate repository is dropped whole and no repository loses part of its code;
    # "sample": each sample is deduplicated on its own.
    dedup_level: DedupLevel = "repository"
    # Which member of a near-duplicate cluster stays: "newest", the repository changed last
    # (a git input's commit date, a directory's newest file time), so that an older version
    # or a stale fork goes and the project's current code stays; "largest", the most text;
    # "stars", the most starred (table inputs only: directories and git have no stars).
    # Ties go to the smallest id.
    dedup_keep: DedupKeep = "newest"
    # Repositories are packed into shards of about this many raw bytes; a shard is the unit
    # of work, of resumption and of distribution (a repository is never split). A shard's
    # files are also read and filtered in batches of about this size, so that a larger
    # repository is never held raw whole.
    shard_bytes: int = 64 << 20
    # Larger files are not read at all (they would fail the line-length rules anyway); the
    # audit lists them with reason too_large.
    max_file_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if self.shard_bytes <= 0 or self.max_file_bytes <= 0:
            raise ValueError("invalid corpus config: shard_bytes and max_file_bytes must be > 0")
        if (self.dedup.id_col, self.dedup.text_col) != ("id", "text"):
            raise ValueError("invalid corpus config: dedup runs on the samples' id and text")
        if self.dedup.group_col is not None or self.dedup.rank_col is not None:
            raise ValueError(
                "invalid corpus config: set dedup_level and dedup_keep, not dedup.group_col "
                "or dedup.rank_col"
            )
        for name, allowed in (("dedup_level", DedupLevel), ("dedup_keep", DedupKeep)):
            if getattr(self, name) not in get_args(allowed):
                raise ValueError(
                    f"invalid corpus config: {name} must be one of {list(get_args(allowed))}, "
                    f"got {getattr(self, name)!r}"
                )

    def dedup_config(self, rank_cols: Mapping[str, str]) -> DedupConfig:
        """The dedup settings with the unit of ``dedup_level`` and the rank of ``dedup_keep``
        (``rank_cols``: the samples' column each ``dedup_keep`` but "largest" ranks by)."""
        group = "repo" if self.dedup_level == "repository" else None
        rank = None if self.dedup_keep == "largest" else rank_cols[self.dedup_keep]
        return replace(self.dedup, group_col=group, rank_col=rank)

    def fingerprint(self) -> dict[str, Any]:
        """The config as plain JSON values, stored with every shard's completion marker."""
        fingerprint: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        return fingerprint


def _updated(default: Any, table: dict[str, Any], key: str) -> Any:
    """``default`` (a config dataclass) with the values of a TOML table, each converted to its
    field's type; sub-tables update the nested config, so unnamed settings keep their
    defaults. ``key`` names the table in errors."""
    values = {}
    hints = get_type_hints(type(default))
    _check_known(type(default), table, key)
    for name, value in table.items():
        current = getattr(default, name)
        where = f"{key}.{name}" if key else name
        if isinstance(value, dict) and is_dataclass(current):
            values[name] = _updated(current, value, where)
        else:
            values[name] = _converted(hints[name], value, where)
    return _built(key, lambda: replace(default, **values))


def _check_known(cls: type, table: dict[str, Any], key: str) -> None:
    known = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(table) - known)
    if unknown:
        where = f"{key}: " if key else ""
        raise ValueError(f"{where}unknown config keys {unknown}; known: {sorted(known)}")


def _built(key: str, build: Callable[[], Any]) -> Any:
    """``build()``, its errors prefixed with the key of the table it reads."""
    try:
        return build()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key}: {exc}" if key else str(exc)) from exc


def _converted(hint: Any, value: Any, key: str) -> Any:
    """A TOML value as the type ``hint``, or an error naming ``key``."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return _converted(inner, value, key)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{key}: must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        items = _typed(value, list, key)
        return tuple(_converted(args[0], v, f"{key}[{i}]") for i, v in enumerate(items))
    if origin in (dict, Mapping):
        table = _typed(value, dict, key)
        return {k: _converted(args[1], v, f"{key}.{k}") for k, v in table.items()}
    if isinstance(hint, type) and is_dataclass(hint):
        table = _typed(value, dict, key)
        _check_known(hint, table, key)
        hints = get_type_hints(hint)
        values = {k: _converted(hints[k], v, f"{key}.{k}") for k, v in table.items()}
        return _built(key, lambda: hint(**values))
    if hint is Path:
        return Path(_typed(value, str, key))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return _typed(value, hint, key)


def _typed(value: Any, expected: type, key: str) -> Any:
    """``value`` if it is an ``expected`` (a bool is not a number here), else an error."""
    if isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool):
        return value
    raise ValueError(f"{key}: expected {expected.__name__}, got {type(value).__name__} {value!r}")


def load_config(path: Path) -> CorpusConfig:
    """Read a TOML file whose tables mirror :class:`CorpusConfig`: every key loads into its
    field's type or fails with a message naming the file and the key (unknown keys too)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read corpus config: {exc}") from exc
    try:
        config: CorpusConfig = _updated(CorpusConfig(), data, "")
        return config
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def to_toml(config: Any) -> str:
    """A config dataclass as TOML that :func:`load_config` reads back into the same value;
    settings that are unset (None, which TOML cannot write) appear commented out."""
    lines: list[str] = []
    _write_table(config, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(config: Any, key: str, lines: list[str]) -> None:
    values = [(f.name, getattr(config, f.name)) for f in fields(config) if f.init]
    scalars = [(name, v) for name, v in values if not (is_dataclass(v) or isinstance(v, dict))]
    if key:
        lines.append(f"\n[{key}]")
    for name, value in scalars:
        lines.append(f"# {name} is unset" if value is None else f"{name} = {_toml_value(value)}")
    for name, value in values:
        sub = f"{key}.{name}" if key else name
        if isinstance(value, dict):
            lines.append(f"\n[{sub}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        elif is_dataclass(value):
            _write_table(value, sub, lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a JSON string is a TOML basic string
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if is_dataclass(value):
        items = (
            f"{f.name} = {_toml_value(getattr(value, f.name))}"
            for f in fields(value)
            if f.init and getattr(value, f.name) is not None
        )
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__} {value!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dsc.corpus_config", description=__doc__)
    parser.add_argument("--dump", action="store_true", help="print the default config as TOML")
    parser.add_argument("--config", type=Path, help="print this TOML file's full config instead")
    args = parser.parse_args(argv)
    if not (args.dump or args.config):
        parser.error("nothing to do: pass --dump (or --config FILE)")
    print(to_toml(load_config(args.config) if args.config else CorpusConfig()), end="")


if __name__ == "__main__":
    main()
