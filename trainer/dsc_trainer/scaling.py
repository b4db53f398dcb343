"""DeepSeek LLM's scaling laws (DeepSeek LLM §3): batch size, learning rate and the model/data split
that a compute budget ``C`` (FLOPs, ``C = M D``) calls for.

``M`` is the non-embedding FLOPs per token (``ModelConfig.flops_per_token_m``), ``D`` the
training tokens. The fits: ``B_opt = 0.2920 C^0.3271`` tokens a batch, ``lr_opt = 0.3118
C^-0.1250``, ``M_opt = 0.1715 C^0.5243``, ``D_opt = 5.8316 C^0.4757``.

>>> plan = scaling_plan(1e20, seq_len=4096)
>>> f"{plan.batch_tokens:.3e} {plan.lr:.3e}"
'1.017e+06 9.860e-04'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dsc_trainer.config import SIZES


def batch_tokens_opt(compute: float) -> float:
    return 0.2920 * compute**0.3271


def lr_opt(compute: float) -> float:
    return 0.3118 * compute**-0.1250


def model_scale_opt(compute: float) -> float:
    """M_opt: non-embedding FLOPs per token."""
    return 0.1715 * compute**0.5243


def data_scale_opt(compute: float) -> float:
    """D_opt: training tokens."""
    return 5.8316 * compute**0.4757


@dataclass(frozen=True)
class ScalingPlan:
    compute: float
    batch_tokens: float
    lr: float
    model_scale: float  # M_opt
    data_scale: float  # D_opt
    nearest_size: str  # the named size whose M (at seq_len) is closest to M_opt, in log scale
    nearest_size_m: int

    def batch_sequences(self, seq_len: int, multiple: int) -> int:
        """B_opt in sequences of ``seq_len``, rounded to a positive multiple of ``multiple``."""
        return max(1, round(self.batch_tokens / seq_len / multiple)) * multiple

    def describe(self) -> str:
        return (
            f"compute budget C = {self.compute:.3e} FLOPs: B_opt = {self.batch_tokens:.4g} tokens, "
            f"lr_opt = {self.lr:.4g}; M_opt = {self.model_scale:.4g} FLOPs/token, "
            f"D_opt = {self.data_scale:.4g} tokens; nearest named size {self.nearest_size} "
            f"(M = {self.nearest_size_m:.4g})"
        )


def scaling_plan(compute: float, *, seq_len: int) -> ScalingPlan:
    if not compute > 0:
        raise ValueError(f"compute budget must be > 0 FLOPs, got {compute}")
    m_opt = model_scale_opt(compute)
    name = min(SIZES, key=lambda n: abs(math.log(SIZES[n].flops_per_token_m(seq_len) / m_opt)))
    return ScalingPlan(
        compute=compute,
        batch_tokens=batch_tokens_opt(compute),
        lr=lr_opt(compute),
        model_scale=m_opt,
        data_scale=data_scale_opt(compute),
        nearest_size=name,
        nearest_size_m=SIZES[name].flops_per_token_m(seq_len),
    )
