"""Fixtures for the evals tests: the benchmark data and a shared execution engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.execution import Engine

# Short limits keep the hostile programs (infinite loops, fork bombs) quick to end.
FAST_LIMITS = Limits(timeout_s=3.0, cpu_s=3)


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
