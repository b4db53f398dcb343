"""Training checkpoints that a crash can never make us resume from half-written.

Layout: ``ROOT/step_00001000/`` holds DeepSpeed's files for that step (model, each rank's
optimizer shard, the LR scheduler, our ``client_state``: loader cursor, step, counters), one RNG
file per rank and, last, ``complete.json``. The marker is written by rank 0 only after a barrier
that every rank reaches once its files are written, and only after it has checked that every
rank's shard is there; it lists each file with its size. A directory without a marker, or whose
files no longer match it, is incomplete and is never resumed from. DeepSpeed's own ``latest``
file is not written: it is written before the other ranks finish (TRAINING.md).

After each save rank 0 keeps the newest ``keep`` complete checkpoints and deletes the rest, and
any incomplete directory older than the newest complete one (a write that was interrupted).

A run resumed on another number of ranks cannot read the ZeRO optimizer shards as saved (each
holds a slice of a flat buffer laid out for the old rank count). Rank 0 then converts the
checkpoint once into DeepSpeed's universal format (one file per parameter and optimizer state,
``ROOT/universal/step_N/``, finished by its own marker) and every rank loads that.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

MARKER = "complete.json"
UNIVERSAL = "universal"
_TAG = re.compile(r"step_(\d+)$")


def tag_for(step: int) -> str:
    return f"step_{step:08d}"


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    marker: dict[str, Any]

    @property
    def tag(self) -> str:
        return self.path.name


def _marker_matches(path: Path, marker: dict[str, Any]) -> bool:
    files: dict[str, int] = marker.get("files", {})
    return bool(files) and all(
        (path / name).is_file() and (path / name).stat().st_size == size
        for name, size in files.items()
    )


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint in directory ``path`` if it is complete, else None."""
    match = _TAG.match(path.name)
    marker_path = path / MARKER
    if match is None or not marker_path.is_file():
        return None
    try:
        marker = json.loads(marker_path.read_text())
    except json.JSONDecodeError:
        return None
    return Checkpoint(path, int(match.group(1)), marker) if _marker_matches(path, marker) else None


def complete_checkpoints(root: Path) -> list[Checkpoint]:
    """The complete checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = (read_checkpoint(p) for p in root.iterdir() if p.is_dir())
    return sorted((c for c in found if c is not None), key=lambda c: c.step)


def resolve_checkpoint(path: Path) -> Checkpoint:
    """A complete checkpoint directory, or the newest complete one under a checkpoints root."""
    direct = read_checkpoint(path)
    if direct is not None:
        return direct
    found = complete_checkpoints(path)
    if not found:
        raise FileNotFoundError(f"{path}: no complete checkpoint (a step_* dir with {MARKER})")
    return found[-1]


def _rng_file(rank: int) -> str:
    return f"rng_rank_{rank:05d}.pt"


def rng_state() -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsynced_sizes(files: dict[str, Path]) -> dict[str, int]:
    """Name -> size of each file, sorted by name, every file fsynced (a marker lists them)."""
    for file in files.values():
        _fsync(file)
    return {name: file.stat().st_size for name, file in sorted(files.items())}


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    _fsync(tmp)
    tmp.replace(path)
    _fsync(path.parent)


class CheckpointManager:
    """Saves and restores a DeepSpeed engine plus our state; every rank calls every method."""

    def __init__(self, root: Path, *, keep: int, rank: int, world_size: int) -> None:
        self.root = root
        self.keep = keep
        self.rank = rank
        self.world_size = world_size

    def save(
        self, engine: Any, step: int, client_state: dict[str, Any], info: dict[str, Any]
    ) -> Checkpoint | None:
        """Write the checkpoint of ``step`` (rank 0 returns it; ``info`` goes into the marker)."""
        path = self.root / tag_for(step)
        if self.rank == 0 and path.exists():  # left over from an interrupted write of this step
            shutil.rmtree(path)
        dist.barrier()
        engine.save_checkpoint(
            str(self.root), tag=path.name, client_state=client_state, save_latest=False
        )
        rng_path = path / _rng_file(self.rank)
        torch.save(rng_state(), rng_path)
        _fsync(rng_path)
        dist.barrier()  # every rank's files are written
        if self.rank != 0:
            return None
        files = self._verified_files(path, engine.zero_optimization_stage())
        marker = {"step": step, "world_size": self.world_size, "files": files, **info}
        _write_json_atomic(path / MARKER, marker)
        self._prune()
        return Checkpoint(path, step, marker)

    def _verified_files(self, path: Path, zero_stage: int) -> dict[str, int]:
        """Name -> size of every file, after checking each rank's shard and RNG file is there."""
        files = {p.name: p for p in path.iterdir() if p.is_file()}
        shards = [n for n in files if n.endswith("optim_states.pt")]
        rngs = [n for n in files if n.startswith("rng_rank_")]
        models = [n for n in files if n.endswith("model_states.pt")]
        expected_models = self.world_size if zero_stage == 3 else 1
        if (len(shards), len(rngs), len(models)) != (self.world_size,) * 2 + (expected_models,):
            raise RuntimeError(
                f"{path}: incomplete after the barrier: {len(shards)} optimizer shards, "
                f"{len(rngs)} RNG files, {len(models)} model files for {self.world_size} ranks"
            )
        return _fsynced_sizes(files)

    def _prune(self) -> None:
        complete = complete_checkpoints(self.root)
        for old in complete[: -self.keep]:
            shutil.rmtree(old.path)
        newest = complete[-1].step
        for path in self.root.iterdir():
            match = _TAG.match(path.name)
            if match and int(match.group(1)) < newest and read_checkpoint(path) is None:
                shutil.rmtree(path)
        universal = self.root / UNIVERSAL
        kept = {c.tag for c in complete[-self.keep :]}
        for path in universal.iterdir() if universal.is_dir() else ():
            if path.is_dir() and path.name not in kept:
                shutil.rmtree(path)

    def needs_universal(self, checkpoint: Checkpoint) -> bool:
        """Whether ``checkpoint`` was saved by another number of ranks than this run's."""
        return int(checkpoint.marker["world_size"]) != self.world_size

    def prepare_universal(self, checkpoint: Checkpoint) -> None:
        """Rank 0 converts ``checkpoint`` to the universal format unless done before; every
        rank calls this, before its engine is built with universal loading on."""
        if self.rank == 0:
            to_universal(checkpoint)
        dist.barrier()

    def load(self, engine: Any, checkpoint: Checkpoint) -> dict[str, Any]:
        """Restore ``checkpoint`` into ``engine``; its client_state. Raises if nothing loads."""
        other_world = self.needs_universal(checkpoint)
        loaded, client_state = engine.load_checkpoint(
            str(checkpoint.path.parent / UNIVERSAL if other_world else checkpoint.path.parent),
            tag=checkpoint.tag,
            load_optimizer_states=True,
            load_lr_scheduler_states=True,
        )
        if loaded is None or client_state is None:  # DeepSpeed only warns; we refuse to go on
            raise RuntimeError(f"{checkpoint.path}: DeepSpeed loaded nothing from this checkpoint")
        if not other_world:  # per-rank RNG streams mean nothing on another rank count
            set_rng_state(torch.load(checkpoint.path / _rng_file(self.rank), weights_only=False))
        return client_state


def to_universal(checkpoint: Checkpoint) -> Path:
    """``checkpoint`` in DeepSpeed's universal format, converted once, written atomically."""
    from deepspeed.checkpoint import ds_to_universal

    target = checkpoint.path.parent / UNIVERSAL / checkpoint.tag
    if read_checkpoint(target) is not None:
        return target
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    options = argparse.Namespace(
        input_folder=str(checkpoint.path),
        output_folder=str(tmp),
        num_extract_workers=1,
        num_merge_workers=1,
        keep_temp_folder=False,
        strict=True,
        # Our checkpoints carry no Megatron-style universal_checkpoint_info; the converter
        # needs only its version entry, which it adds in memory.
        inject_missing_state=True,
    )
    ds_to_universal.main(options)
    files = {str(p.relative_to(tmp)): p for p in tmp.rglob("*") if p.is_file()}
    _write_json_atomic(tmp / MARKER, {"step": checkpoint.step, "files": _fsynced_sizes(files)})
    shutil.rmtree(target, ignore_errors=True)  # a conversion without its marker
    tmp.rename(target)
    _fsync(target.parent)
    return target
