"""AdamW with DeepSeek LLM's settings and weight decay on the matrices only.

Decayed: every linear weight, i.e. the attention and MLP projections and the untied output head
(a projection onto the vocabulary, decayed as in nanoGPT and Megatron). Not decayed: the RMSNorm
gains (decay would pull them towards 0, not towards their identity value 1), biases (the model
has none; any would be skipped by the same rule) and the token embedding (each row is only
updated when its token occurs, so decay would shrink rare tokens' rows for no reason; a tied head
shares it and is therefore not decayed either).

On a machine without CUDA the optimizer is ``torch.optim.AdamW``, which DeepSpeed accepts under
ZeRO without compiling anything; on CUDA it is DeepSpeed's ``FusedAdam`` (AdamW mode).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsc_trainer.run_config import OptimSection

EMBEDDING_NAMES = ("tok_embeddings.weight",)


def decays(name: str, param: nn.Parameter) -> bool:
    """Whether the parameter called ``name`` gets weight decay."""
    return param.ndim >= 2 and name not in EMBEDDING_NAMES


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two AdamW groups: the parameters that ``decays`` and the rest, with decay 0."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (decay if decays(name, param) else no_decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, cfg: OptimSection) -> torch.optim.Optimizer:
    """AdamW over ``param_groups``: FusedAdam on CUDA, torch's AdamW elsewhere."""
    groups = param_groups(model, cfg.weight_decay)
    options = {"lr": cfg.lr, "betas": (cfg.beta1, cfg.beta2), "eps": cfg.eps}
    if torch.cuda.is_available():
        # GPU only: cannot be exercised on the CPU machines this project is developed on.
        from deepspeed.ops.adam import FusedAdam

        return FusedAdam(groups, adam_w_mode=True, **options)
    return torch.optim.AdamW(groups, **options)
