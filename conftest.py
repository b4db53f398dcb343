"""Test configuration shared by every suite (tests/, evals/tests/): hypothesis profiles and
the published benchmark data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs on 2 cores: a moderate example count keeps property tests meaningful and quick.
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

REPO_ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """Published benchmark data: ``DSC_BENCHMARKS_DIR``, default ``../shared/benchmarks``."""
    path = Path(os.environ.get("DSC_BENCHMARKS_DIR", REPO_ROOT.parent / "shared" / "benchmarks"))
    if not path.is_dir():
        pytest.fail(f"benchmark data not found at {path}: set DSC_BENCHMARKS_DIR")
    return path
