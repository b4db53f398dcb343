"""Bits per byte, MFU against the GPU peak table, the JSONL log, and the skipped-step guard."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.config import named_config
from dsc_trainer.loop import SkipGuard, TooManySkippedSteps
from dsc_trainer.metrics import MetricsLogger, bits_per_byte, mfu, peak_flops, read_metrics


def test_bits_per_byte_by_hand():
    # 1000 tokens at 1.5 nats each over 4000 bytes: 1500 / ln 2 / 4000 = 0.54101 bits a byte
    assert bits_per_byte(1500.0, 4000) == pytest.approx(0.5410106, rel=1e-6)
    with pytest.raises(ValueError, match="byte count"):
        bits_per_byte(1.0, 0)


@given(st.floats(0, 1e9), st.integers(1, 10**12), st.integers(1, 1000))
def test_bits_per_byte_is_additive_over_equal_byte_shares(nats, n_bytes, parts):
    # splitting a text in equal-byte parts: the bpb of the whole is the mean of the parts'
    whole = bits_per_byte(nats * parts, n_bytes * parts)
    assert whole == pytest.approx(bits_per_byte(nats, n_bytes))


def test_gpu_peaks_and_mfu():
    assert peak_flops("NVIDIA H800") == peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert peak_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert peak_flops("NVIDIA GeForce RTX 4090") is None  # no guessed peak
    # 1.3B at 4K: M = 9,663,676,416 FLOPs/token; 8 H800 at 40,000 tokens/s each
    m = named_config("1.3B").flops_per_token_m(4096)
    assert mfu(8 * 40_000, m, 8, 989e12) == pytest.approx(40_000 * m / 989e12)
    assert mfu(8 * 40_000, m, 8, 989e12) == pytest.approx(0.39085, rel=1e-4)


def test_jsonl_log_writes_non_finite_values_as_null(tmp_path: Path):
    with MetricsLogger(
        tmp_path, enabled=True, tensorboard=True, total_steps=3, start_step=0
    ) as log:
        log.log({"kind": "train", "step": 1, "loss": 2.5, "skipped": False})
        log.log({"kind": "train", "step": 2, "loss": math.nan, "grad_norm": math.inf})
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert records[0] == {"kind": "train", "step": 1, "loss": 2.5, "skipped": False}
    assert records[1]["loss"] is None and records[1]["grad_norm"] is None
    quiet = MetricsLogger(
        tmp_path / "rank1", enabled=False, tensorboard=True, total_steps=3, start_step=0
    )
    quiet.log({"kind": "train", "step": 1})
    assert not (tmp_path / "rank1").exists()


def test_skip_guard_counts_and_stops_with_the_step_and_checkpoint():
    guard = SkipGuard(max_consecutive=3)
    for step, skipped in enumerate((True, False, True, True), start=1):
        guard.record(skipped)  # a good step resets the run of skips
        guard.check(step, Path("ckpt/step_00000002"))
    assert (guard.total, guard.consecutive) == (3, 2)
    guard.record(True)
    with pytest.raises(TooManySkippedSteps, match=r"step 5: 3 consecutive.*step_00000002"):
        guard.check(5, Path("ckpt/step_00000002"))
