"""DeepSeek LLM's scaling laws behind --compute-budget, against hand-computed values."""

from __future__ import annotations

import pytest

from dsc_trainer.scaling import scaling_plan


def test_formulas_at_1e20_flops():
    # By hand: 1e20^0.3271 = 10^6.542 = 3.4834e6; 1e20^-0.125 = 10^-2.5 = 3.1623e-3;
    # 1e20^0.5243 = 10^10.486 = 3.0620e10; 1e20^0.4757 = 10^9.514 = 3.2659e9.
    plan = scaling_plan(1e20, seq_len=4096)
    assert plan.batch_tokens == pytest.approx(0.2920 * 3.4834e6, rel=1e-4)
    assert plan.lr == pytest.approx(0.3118 * 3.1623e-3, rel=1e-4)
    assert plan.model_scale == pytest.approx(0.1715 * 3.0620e10, rel=1e-4)
    assert plan.data_scale == pytest.approx(5.8316 * 3.2659e9, rel=1e-4)
    # M_opt x D_opt is C up to the fits' constants (0.1715 x 5.8316 = 1.0001)
    assert plan.model_scale * plan.data_scale == pytest.approx(1e20, rel=1e-3)


def test_nearest_named_size_and_batch_in_sequences():
    # 1.3B at 4K tokens: M = 9.66e9 FLOPs/token. M_opt = 9.66e9 at C = (9.66e9/0.1715)^(1/0.5243)
    compute = (9.663676416e9 / 0.1715) ** (1 / 0.5243)
    plan = scaling_plan(compute, seq_len=4096)
    assert plan.nearest_size == "1.3B"
    assert plan.model_scale == pytest.approx(9.663676416e9)
    sequences = plan.batch_sequences(4096, multiple=64)
    assert sequences % 64 == 0 and abs(sequences * 4096 - plan.batch_tokens) <= 32 * 4096
    assert "1.3B" in plan.describe() and "D_opt" in plan.describe()
    assert scaling_plan(1e30, seq_len=4096).nearest_size == "33B"
    assert scaling_plan(1.0, seq_len=4096).batch_sequences(4096, multiple=8) == 8


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="compute budget"):
        scaling_plan(0.0, seq_len=4096)
