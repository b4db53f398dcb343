"""Learning-rate schedules: DeepSeek LLM's multi-step and cosine, at and between every boundary."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.run_config import ScheduleSection
from dsc_trainer.schedule import (
    cosine_factor,
    first_step_at,
    lr_scheduler,
    multistep_factor,
)


def test_multistep_at_every_boundary_of_a_paper_length_run():
    steps, warmup = 100_000, 2000
    f = lambda s: multistep_factor(s, warmup_steps=warmup, steps=steps)  # noqa: E731
    assert f(0) == 1 / 2000
    assert f(999) == 0.5
    assert f(1998) == 1999 / 2000
    assert f(1999) == f(2000) == f(50_000) == f(79_999) == 1.0
    assert f(80_000) == f(85_000) == f(89_999) == 0.316  # after 80 % of the tokens
    assert f(90_000) == f(99_999) == 0.1  # after 90 %


@given(steps=st.integers(1, 10**7), warmup=st.integers(0, 10**4), data=st.data())
def test_multistep_against_its_definition(steps, warmup, data):
    step = data.draw(st.integers(0, steps - 1))
    # the batch is constant, so "after 90 % of the tokens" is step / steps >= 0.9, in integers
    if 10 * step >= 9 * steps:
        plateau = 0.1
    elif 10 * step >= 8 * steps:
        plateau = 0.316
    else:
        plateau = 1.0
    expected = min(plateau, (step + 1) / warmup if warmup else 1.0)
    assert multistep_factor(step, warmup_steps=warmup, steps=steps) == expected


def test_first_step_is_exact_where_floats_are_not():
    assert math.ceil(0.55 * 100) == 56  # 55.00000000000001
    assert first_step_at(0.55, 100) == 55
    assert first_step_at(0.8, 476_837) == 381_470  # 381,469.6


def test_cosine_at_boundaries_and_between():
    f = lambda s: cosine_factor(s, warmup_steps=100, steps=1100, min_ratio=0.1)  # noqa: E731
    assert f(0) == 0.01 and f(49) == 0.5 and f(99) == 1.0
    assert f(100) == 1.0  # the cosine starts at the peak
    assert f(600) == pytest.approx(0.1 + 0.9 * 0.5)  # half way down
    assert f(1100) == pytest.approx(0.1)
    assert f(350) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))


@given(steps=st.integers(2, 10**6), warmup=st.integers(0, 1000), ratio=st.floats(0, 1))
def test_cosine_is_monotone_after_warmup_and_bounded(steps, warmup, ratio):
    warmup = min(warmup, steps - 1)
    points = sorted({warmup, (warmup + steps) // 2, steps - 1, steps})
    values = [cosine_factor(s, warmup_steps=warmup, steps=steps, min_ratio=ratio) for s in points]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(values))
    assert all(ratio - 1e-12 <= v <= 1.0 for v in values)


def test_lr_scheduler_drives_the_optimizer_and_resumes_from_its_state():
    cfg = ScheduleSection(warmup_steps=2)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=1.0)
    sched = lr_scheduler(opt, cfg, steps=10)
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == [multistep_factor(s, warmup_steps=2, steps=10) for s in range(10)]
    # a fresh scheduler loading the state of step 5 continues at step 6, it does not restart
    opt2 = torch.optim.AdamW([param], lr=1.0)
    sched2 = lr_scheduler(opt2, cfg, steps=10)
    assert opt2.param_groups[0]["lr"] == 0.5
    sched2.load_state_dict({**sched.state_dict(), "last_epoch": 5})
    sched2.step()
    assert opt2.param_groups[0]["lr"] == multistep_factor(6, warmup_steps=2, steps=10)
    assert sched2.last_epoch == 6
