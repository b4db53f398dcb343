"""Learning-rate schedules as factors of the peak, a pure function of the optimizer step.

Step ``s`` (0-based) is the ``s``-th update. Warm-up is linear and reaches the peak at its last
step (``(s + 1) / warmup_steps``), so the first update does not waste its step on lr 0.

* ``multistep`` (DeepSeek LLM §2.3): warm-up, then the peak until 80 % of the training
  tokens, 31.6 % of it until 90 %, then 10 %. The batch is constant, so a token fraction is a
  step fraction: the drop to ``factors[i]`` happens at the first step ``s`` with
  ``s >= milestones[i] * steps`` (compared exactly, in fractions).
* ``cosine`` (instruction tuning, DeepSeek-Coder §3.7): warm-up, then half a cosine from
  the peak down to ``min_lr_ratio`` at ``s = steps``.

DeepSpeed steps the scheduler inside ``engine.step()`` and not on a skipped (non-finite) step,
so the schedule follows the updates applied.

>>> [round(multistep_factor(s, warmup_steps=2, steps=10), 3) for s in range(10)]
[0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.316, 0.1]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import torch

from dsc_trainer.run_config import ScheduleSection


def warmup_factor(step: int, warmup_steps: int) -> float:
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0


def first_step_at(fraction: float, steps: int) -> int:
    """The first step ``s`` with ``s >= fraction * steps``, exactly (no float rounding)."""
    return math.ceil(Fraction(repr(fraction)) * steps)


def multistep_factor(
    step: int,
    *,
    warmup_steps: int,
    steps: int,
    milestones: Sequence[float] = (0.8, 0.9),
    factors: Sequence[float] = (0.316, 0.1),
) -> float:
    factor = 1.0
    for milestone, drop in zip(milestones, factors, strict=True):
        if step >= first_step_at(milestone, steps):
            factor = drop
    return min(warmup_factor(step, warmup_steps), factor)


def cosine_factor(step: int, *, warmup_steps: int, steps: int, min_ratio: float = 0.0) -> float:
    if step < warmup_steps:
        return warmup_factor(step, warmup_steps)
    progress = min(1.0, (step - warmup_steps) / max(1, steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def schedule_factor(cfg: ScheduleSection, steps: int) -> Callable[[int], float]:
    """The factor function ``step -> lr / peak`` the settings describe."""
    if cfg.kind == "multistep":
        return functools.partial(
            multistep_factor,
            warmup_steps=cfg.warmup_steps,
            steps=steps,
            milestones=cfg.milestones,
            factors=cfg.factors,
        )
    return functools.partial(
        cosine_factor, warmup_steps=cfg.warmup_steps, steps=steps, min_ratio=cfg.min_lr_ratio
    )


def lr_scheduler(
    optimizer: torch.optim.Optimizer, cfg: ScheduleSection, steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR over ``optimizer``: its state is the step count, which checkpoints restore."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule_factor(cfg, steps))
