"""Fixtures for the evals tests: the benchmark data and a shared execution engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.data import answer_locations
from dsc_evals.execution import Engine

# Short limits keep the hostile programs (infinite loops, fork bombs) quick to end.
FAST_LIMITS = Limits(timeout_s=3.0, cpu_s=3)


@pytest.fixture(scope="session")
def engine(benchmarks_dir: Path) -> Iterator[Engine]:
    """The strongest isolation here, or the one named by ``DSC_EVALS_TEST_ISOLATION`` (with the
    interpreter ``DSC_EVALS_TEST_PYTHON``) to run the hostile programs against a fallback mode.
    Benchmark answers are hidden from it, as ``run`` hides them."""
    config = ExecConfig(
        isolation=Isolation(os.environ.get("DSC_EVALS_TEST_ISOLATION", "auto")),
        allow_weak_isolation=True,  # only where the variable asks for a weak mode
        limits=FAST_LIMITS,
        workers=2,
        python=os.environ.get("DSC_EVALS_TEST_PYTHON", sys.executable),
        hidden=answer_locations(benchmarks_dir),
    )
    with Engine(config) as shared:
        yield shared
