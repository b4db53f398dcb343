"""DeepSpeed around our model: the process group, the generated DeepSpeed config, the engine.

The DeepSpeed JSON is derived from the run config (never kept by hand next to it);
``pretrain.py --print-deepspeed-config`` prints it and every run writes it to its out_dir.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dsc_trainer.optim import build_optimizer
from dsc_trainer.run_config import RunConfig
from dsc_trainer.schedule import lr_scheduler

# We log ourselves (dsc_trainer.metrics); DeepSpeed's own step prints would only duplicate it.
_NEVER = 10**9


def deepspeed_config(
    cfg: RunConfig, world_size: int, *, load_universal: bool = False
) -> dict[str, Any]:
    """The DeepSpeed JSON for ``cfg`` on ``world_size`` ranks (``load_universal``: resuming
    from a checkpoint converted for another rank count, dsc_trainer.checkpoint)."""
    zero: dict[str, Any] = {"stage": cfg.parallel.zero_stage, "contiguous_gradients": True}
    if torch.cuda.is_available():
        zero["overlap_comm"] = True  # overlap the gradient reduction with the backward pass
    return {
        "train_batch_size": cfg.train.global_batch_size,
        "train_micro_batch_size_per_gpu": cfg.train.micro_batch_size,
        "gradient_accumulation_steps": cfg.grad_accum(world_size),
        "gradient_clipping": cfg.optim.grad_clip,
        "bf16": {"enabled": cfg.run.precision == "bf16"},
        "zero_optimization": zero,
        "steps_per_print": _NEVER,
        "wall_clock_breakdown": False,
        "checkpoint": {"load_universal": load_universal},
    }


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def init_distributed() -> World:
    """Join the process group the launcher set up (gloo on CPU, NCCL on CUDA).

    Started without a launcher (``python trainer/pretrain.py``), the process is a world of one.
    """
    import deepspeed

    if "RANK" not in os.environ:
        single = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}
        os.environ.update(single)
        os.environ.setdefault("MASTER_PORT", str(_free_port()))
    cuda = torch.cuda.is_available()
    deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo", verbose=False)
    local_rank = int(os.environ["LOCAL_RANK"])
    if cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    return World(
        rank=torch.distributed.get_rank(),
        size=torch.distributed.get_world_size(),
        local_rank=local_rank,
        device=device,
    )


def build_engine(model: nn.Module, cfg: RunConfig, world: World, ds_config: dict[str, Any]) -> Any:
    """The DeepSpeed engine: our AdamW, our schedule (stepped by ``engine.step()``), ZeRO."""
    import deepspeed

    optimizer = build_optimizer(model, cfg.optim)
    scheduler = lr_scheduler(optimizer, cfg.schedule, cfg.train.steps)
    engine, *_ = deepspeed.initialize(
        model=model,
        optimizer=optimizer,
        lr_scheduler=scheduler,
        config=ds_config,
    )
    return engine
