"""Fixtures for the evals tests: the benchmark data and a shared execution engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.execution import Engine

REPO_ROOT = Path(__file__).resolve().parents[2]
# Short limits keep the hostile programs (infinite loops, fork bombs) quick to end.
FAST_LIMITS = Limits(timeout_s=3.0, cpu_s=3)


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """The benchmark data (``DSC_BENCHMARKS_DIR``, default ``../shared/benchmarks``)."""
    path = Path(os.environ.get("DSC_BENCHMARKS_DIR", REPO_ROOT.parent / "shared" / "benchmarks"))
    if not path.is_dir():
        pytest.fail(f"benchmark data not found at {path}: set DSC_BENCHMARKS_DIR")
    return path


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The strongest isolation here, or the one named by ``DSC_EVALS_TEST_ISOLATION`` (with the
    interpreter ``DSC_EVALS_TEST_PYTHON``) to run the hostile programs against a fallback mode."""
    config = ExecConfig(
        isolation=Isolation(os.environ.get("DSC_EVALS_TEST_ISOLATION", "auto")),
        limits=FAST_LIMITS,
        workers=2,
        python=os.environ.get("DSC_EVALS_TEST_PYTHON", sys.executable),
    )
    with Engine(config) as shared:
        yield shared
