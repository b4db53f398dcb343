"""The command line shared by ``trainer/pretrain.py`` and ``trainer/sft.py``."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import TypeVar

from dsc_trainer.distributed import deepspeed_config
from dsc_trainer.run_config import RunConfig
from dsc_trainer.settings import load

C = TypeVar("C", bound=RunConfig)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", type=Path, required=True, help="a TOML file of trainer/configs")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one setting (repeatable), e.g. --set train.steps=100",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue from the newest complete checkpoint"
    )
    p.add_argument(
        "--print-deepspeed-config",
        action="store_true",
        help="print the DeepSpeed JSON generated for $WORLD_SIZE ranks (default 1) and exit",
    )
    # The DeepSpeed launcher passes --local_rank; we read LOCAL_RANK from the environment.
    p.add_argument("--local_rank", type=int, help=argparse.SUPPRESS)
    return p


def launcher_world_size() -> int:
    """The number of ranks the launcher started (before the process group exists)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def load_config(cls: type[C], args: argparse.Namespace) -> C:
    return load(cls, args.config, args.set)


def print_deepspeed_config(cfg: RunConfig) -> None:
    print(json.dumps(deepspeed_config(cfg, launcher_world_size()), indent=2))


def setup_logging() -> None:
    rank = os.environ.get("RANK", "0")
    logging.basicConfig(
        level=logging.INFO if rank == "0" else logging.WARNING,
        format=f"%(asctime)s rank{rank} %(name)s: %(message)s",
    )
