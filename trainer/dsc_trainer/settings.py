"""Typed settings: frozen dataclasses filled from TOML tables and dotted ``--set`` overrides.

Each field's default is written once, in its dataclass; a TOML file and then the overrides
replace single keys. Values are checked against the field's type (int, float, bool, str,
``Path``, ``Literal``, ``X | None``, ``tuple[X, ...]``, nested dataclasses), unknown keys are
refused, and a section's own checks raise ``ConfigError`` with the key relative to the section:
every error names the full dotted key.

>>> from dsc_trainer.run_config import PretrainConfig
>>> load(PretrainConfig, None, ["train.steps=5000", "data.dir=/data/tokens"]).train.steps
5000
>>> load(PretrainConfig, None, ["optim.beta2=2"])
Traceback (most recent call last):
...
dsc_trainer.settings.ConfigError: optim.beta2: must be in [0, 1)
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad setting; ``key`` is its dotted name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def require(condition: bool, key: str, message: str) -> None:
    """In a section's ``__post_init__``: raise ``ConfigError(key, message)`` unless true."""
    if not condition:
        raise ConfigError(key, message)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(kind: Any, value: Any, key: str) -> Any:
    """``value`` (as TOML gives it) as type ``kind``; ConfigError naming ``key`` otherwise."""
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, Mapping):
            raise ConfigError(key, f"expected a table, got {value!r}")
        return from_mapping(kind, value, key)  # type: ignore[arg-type]
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = (o for o in options if o is not type(None))  # only X | None is supported
        return _convert(inner, value, key)
    if origin is typing.Literal:
        allowed = typing.get_args(kind)
        if value not in allowed:
            raise ConfigError(key, f"expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(kind)
        if not isinstance(value, list | tuple):
            raise ConfigError(key, f"expected an array, got {value!r}")
        return tuple(_convert(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {value!r}")
        return float(value)
    if kind in (str, Path):
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return kind(value)
    raise TypeError(f"{key}: unsupported settings type {kind!r}")


def from_mapping(cls: type[T], data: Mapping[str, Any], prefix: str = "") -> T:
    """An instance of the dataclass ``cls`` with the keys of ``data`` replacing its defaults."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ConfigError(
            _join(prefix, unknown[0]), f"unknown key (known: {', '.join(sorted(fields))})"
        )
    values = {
        name: _convert(hints[name], value, _join(prefix, name)) for name, value in data.items()
    }
    try:
        return cls(**values)
    except ConfigError as error:  # a section's own check: prefix its relative key
        raise ConfigError(_join(prefix, error.key), error.message) from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=VALUE"`` -> (["a", "b"], value); VALUE is a TOML value, else taken as a string.

    So ``train.steps=100`` gives an int and ``data.dir=/data/tokens`` a string without quotes.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(text, "an override is KEY=VALUE with a dotted KEY, e.g. train.steps=100")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def _apply(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for depth, part in enumerate(path[:-1]):
        node = tree.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(".".join(path[: depth + 1]), "is a value, not a table")
        tree = node
    tree[path[-1]] = value


def load(cls: type[T], path: Path | None, overrides: Sequence[str] = ()) -> T:
    """``cls`` from the TOML file ``path`` (None: defaults only), then ``KEY=VALUE`` overrides."""
    tree: dict[str, Any] = {}
    if path is not None:
        with Path(path).open("rb") as f:
            try:
                tree = tomllib.load(f)
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(str(path), f"not valid TOML: {error}") from None
    for text in overrides:
        _apply(tree, *parse_override(text))
    return from_mapping(cls, tree)


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain JSON/TOML values (paths as strings, tuples as lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
