"""The defaults are written twice, in the Rust core (for Rust users and tests) and in the
Python dataclasses (what users set): they must agree, field for field."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from dsc import _dsc
from dsc.decontaminate import DecontConfig
from dsc.dedup import DedupConfig
from dsc.filters import FilterConfig
from dsc.ordering import OrderingConfig
from dsc.screen import ScreenConfig

RUST: dict[str, dict[str, Any]] = json.loads(_dsc.default_configs())


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """As JSON sees it: tuples become lists."""
    return json.loads(json.dumps(values))


PYTHON = {
    "filters": plain(asdict(FilterConfig())),
    "minhash": plain(asdict(DedupConfig())),
    "quality_rules": plain(asdict(ScreenConfig().rules)),
    "syntax_budget": plain(asdict(ScreenConfig())),
    "decont": plain({k: v for k, v in asdict(DecontConfig()).items() if k != "sources"}),
    "ordering": plain(asdict(OrderingConfig())),
}


@pytest.mark.parametrize("name", sorted(RUST))
def test_python_defaults_equal_the_rust_ones(name: str) -> None:
    rust = RUST[name]
    # The Python config may hold more settings (paths, executor choices); every Rust one must
    # be there with the same value.
    assert {key: PYTHON[name].get(key, "<missing>") for key in rust} == rust


def test_every_rust_config_is_compared() -> None:
    assert set(RUST) == set(PYTHON)
