"""The training loop shared by ``trainer/pretrain.py`` and ``trainer/sft.py``.

One step = ``grad_accum`` micro-batches per rank, then one DeepSpeed update. The loss is the mean
next-token loss over the label tokens of the whole global batch: each micro-batch's summed loss
is scaled by ``grad_accum x ranks / N`` (N label tokens in the global batch, one all-reduce) to
undo DeepSpeed's averaging over micro-batches and ranks. So a rank with many masked labels (SFT
prompts, document boundaries) weighs no more than its tokens, and the update does not depend on
how the global batch is split over ranks.

A step whose gradient norm is not finite is skipped by DeepSpeed's ZeRO optimizer (weights and
optimizer untouched, the schedule not stepped); the loop counts it and stops the run after
``train.max_consecutive_skips`` in a row, naming the step and the last complete checkpoint.
Everything random is seeded from ``run.seed``: the model init here, the data order in the loader.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from dsc_trainer.checkpoint import Checkpoint, CheckpointManager, complete_checkpoints, tag_for
from dsc_trainer.config import ModelConfig
from dsc_trainer.distributed import World, build_engine, deepspeed_config, init_distributed
from dsc_trainer.export import load_weights
from dsc_trainer.hf_convert import config_to_hf
from dsc_trainer.metrics import MetricsLogger, bits_per_byte, mfu, peak_flops
from dsc_trainer.model import Transformer
from dsc_trainer.run_config import RunConfig
from dsc_trainer.settings import to_dict

if TYPE_CHECKING:
    from dsc_trainer.loader import Batch

log = logging.getLogger(__name__)

IGNORE_INDEX = -100  # label of positions without loss (F.cross_entropy's default)
# Our part of DeepSpeed's client_state, under one key: DeepSpeed drops client keys that clash
# with its own (it has "skipped_steps", for one).
CLIENT_KEY = "dsc"


class BatchSource(Protocol):
    """This rank's micro-batches, resumable from a global cursor."""

    def __iter__(self) -> Iterator[Batch]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Task:
    """What an entry point hands the loop: the data, its vocabulary and its tokenizer."""

    vocab_size: int  # token ids the data uses; the model rounds it up (ModelSection.build)
    tokenizer_dir: Path  # copied into exported models
    # (world, grad_accum) -> this rank's training micro-batches, endless
    train_source: Callable[[World, int], BatchSource]
    # world -> this rank's held-out micro-batches, one pass; None: no validation
    valid_source: Callable[[World], Iterable[Batch]] | None = None


class TooManySkippedSteps(RuntimeError):
    pass


class SkipGuard:
    """Counts skipped (non-finite) steps and stops the run after too many in a row."""

    def __init__(self, max_consecutive: int, total: int = 0) -> None:
        self.max_consecutive = max_consecutive
        self.total = total
        self.consecutive = 0

    def record(self, skipped: bool) -> None:
        self.total += skipped
        self.consecutive = self.consecutive + 1 if skipped else 0

    def check(self, step: int, last_checkpoint: Path | None) -> None:
        """Raise if the run of skips ending at ``step`` is too long."""
        if self.consecutive >= self.max_consecutive:
            where = last_checkpoint or "none written yet"
            raise TooManySkippedSteps(
                f"step {step}: {self.consecutive} consecutive steps with a non-finite loss or "
                f"gradient norm (train.max_consecutive_skips = {self.max_consecutive}); "
                f"last good checkpoint: {where}"
            )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _all_reduce_sum(values: list[float | Tensor], device: torch.device) -> list[float]:
    # float64: token and byte counts of a large global batch exceed float32's exact integers
    packed = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(packed)
    return packed.tolist()


def token_losses(engine: Any, batch: Batch) -> Tensor:
    """Next-token loss in nats (float32) of each position (B, T); 0 where nothing is predicted."""
    logits = engine(batch.tokens, doc_ids=batch.doc_ids)
    losses = F.cross_entropy(
        logits.flatten(0, 1).float(),
        batch.labels.flatten(),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    return losses.view_as(batch.labels)


def summed_loss(engine: Any, batch: Batch) -> Tensor:
    """Summed next-token loss in nats (float32) over the batch's label tokens."""
    return token_losses(engine, batch).sum()


@dataclass(frozen=True)
class StepResult:
    loss: float  # mean nats per label token over the global batch
    grad_norm: float
    lr: float  # the learning rate of this step's update
    skipped: bool
    seconds: float


def train_step(engine: Any, source: Iterator[Batch], grad_accum: int, world: World) -> StepResult:
    """One optimizer step over this rank's next ``grad_accum`` micro-batches of ``source``.

    The step's time includes fetching its batches: a loader that cannot keep up shows in tokens/s.
    """
    start = time.perf_counter()
    lr = float(engine.get_lr()[0])  # engine.step() moves the schedule on to the next step
    batches = [next(source).to(world.device) for _ in range(grad_accum)]
    local_tokens = sum(int((b.labels != IGNORE_INDEX).sum()) for b in batches)
    (global_tokens,) = _all_reduce_sum([local_tokens], world.device)
    scale = len(batches) * world.size / max(global_tokens, 1.0)
    nats = torch.zeros((), dtype=torch.float64, device=world.device)
    for batch in batches:
        loss = summed_loss(engine, batch)
        engine.backward(loss * scale)
        engine.step()  # an update only after the last micro-batch (DeepSpeed counts them)
        nats += loss.detach()
    (global_nats,) = _all_reduce_sum([nats], world.device)
    loss_value = global_nats / max(global_tokens, 1.0)
    norm = engine.get_global_grad_norm()
    grad_norm = float(norm) if norm is not None else math.nan
    skipped = not engine.was_step_applied() or not math.isfinite(loss_value)
    return StepResult(loss_value, grad_norm, lr, skipped, time.perf_counter() - start)


@torch.no_grad()
def evaluate(
    engine: Any, batches: Iterable[Batch], n_batches: int, world: World
) -> dict[str, float]:
    """Held-out loss (nats per label token) and bits per byte over ``n_batches`` per rank.

    Bits per byte count the labels that stand for text (``label_bytes > 0``), as the evals'
    ``bpb`` task does: predicting EOS or a FIM sentinel is in the loss but encodes no byte.
    """
    engine.eval()
    nats, text_nats, tokens, n_bytes, seen = 0.0, 0.0, 0, 0, 0
    for batch in batches:
        if seen == n_batches:
            break
        batch = batch.to(world.device)
        losses = token_losses(engine, batch)
        nats += float(losses.sum())
        text_nats += float(losses[batch.label_bytes > 0].sum())
        tokens += int((batch.labels != IGNORE_INDEX).sum())
        n_bytes += int(batch.label_bytes.sum())
        seen += 1
    engine.train()
    if seen != n_batches:
        raise RuntimeError(
            f"rank {world.rank}: the held-out split gave {seen} micro-batches, "
            f"{n_batches} needed for eval.windows; lower eval.windows"
        )
    totals = _all_reduce_sum([nats, text_nats, tokens, n_bytes], world.device)
    total_nats, total_text_nats, total_tokens, total_bytes = totals
    return {
        "loss": total_nats / total_tokens,
        "bpb": bits_per_byte(total_text_nats, int(total_bytes)),
        "tokens": total_tokens,
        "bytes": total_bytes,
        "text_nats": total_text_nats,
    }


def build_model(config: ModelConfig, seed: int, init_from: Path | None) -> Transformer:
    """The model initialised from ``seed``, or with the weights of ``init_from``.

    ``init_from`` gives weights only: the optimizer, schedule and data cursor start afresh (the
    long-context stage, instruction tuning). Loading is strict, so any shape mismatch is named.
    """
    seed_everything(seed)
    model = Transformer(config)
    if init_from is not None:
        model.load_state_dict(load_weights(init_from))
        log.info("initialised the weights from %s", init_from)
    return model


def _device_peak(world: World) -> float | None:
    if world.device.type != "cuda":
        return None
    return peak_flops(torch.cuda.get_device_name(world.device))


class Run:
    """A training run: engine, data, checkpoints and logs, driven by ``train``.

    A context manager: leaving it destroys the process group, which lets the ranks exit at once
    (left to interpreter teardown, gloo takes seconds).
    """

    def __init__(self, cfg: RunConfig, task: Task, *, resume: bool) -> None:
        self.cfg = cfg
        self.task = task
        self.world = init_distributed()
        self.grad_accum = cfg.grad_accum(self.world.size)
        self.eval_batches = cfg.eval_batches(self.world.size) if task.valid_source else 0
        out = cfg.run.out_dir
        self.checkpoints = CheckpointManager(
            out / "checkpoints",
            keep=cfg.checkpoint.keep,
            rank=self.world.rank,
            world_size=self.world.size,
        )
        resume_from = self._resume_target() if resume else None
        self.model_config: ModelConfig = cfg.model.build(task.vocab_size)
        # A resumed run takes its weights from its own checkpoint, not from init_from.
        init_from = cfg.checkpoint.init_from if resume_from is None else None
        model = build_model(self.model_config, cfg.run.seed, init_from)
        universal = resume_from is not None and self.checkpoints.needs_universal(resume_from)
        if universal:
            assert resume_from is not None
            self.checkpoints.prepare_universal(resume_from)
        ds_json = deepspeed_config(cfg, self.world.size, load_universal=universal)
        self.engine = build_engine(model, cfg, self.world, ds_json)
        self.source = task.train_source(self.world, self.grad_accum)
        self.step = 0
        self.guard = SkipGuard(cfg.train.max_consecutive_skips)
        self.last_checkpoint: Path | None = None
        self.last_good_checkpoint: Path | None = None  # the newest written before any skip run
        if resume_from is not None:
            self._restore(resume_from)
        if self.world.is_main:
            out.mkdir(parents=True, exist_ok=True)
            (out / "deepspeed.json").write_text(json.dumps(ds_json, indent=2) + "\n")
            (out / "run_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
        self.peak = _device_peak(self.world)
        self.flops_per_token = self.model_config.flops_per_token_m(cfg.train.seq_len)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc_info: object) -> None:
        dist.destroy_process_group()

    def _resume_target(self) -> Checkpoint:
        found = complete_checkpoints(self.checkpoints.root)
        if not found:
            raise FileNotFoundError(
                f"--resume: no complete checkpoint under {self.checkpoints.root} "
                "(a step_* directory with complete.json)"
            )
        return found[-1]

    def _restore(self, checkpoint: Checkpoint) -> None:
        state = self.checkpoints.load(self.engine, checkpoint)[CLIENT_KEY]
        self.source.load_state_dict(state["loader"])
        self.step = state["step"]
        self.guard.total = state["skipped_steps"]
        self.last_checkpoint = self.last_good_checkpoint = checkpoint.path
        log.info("resumed from %s at step %d", checkpoint.path, self.step)

    def _save(self) -> None:
        client_state = {
            CLIENT_KEY: {
                "step": self.step,
                "loader": self.source.state_dict(),
                "skipped_steps": self.guard.total,
            }
        }
        info = {
            "model_config": config_to_hf(self.model_config, torch.float32),
            "precision": self.cfg.run.precision,
            "tokenizer_dir": str(self.task.tokenizer_dir),
        }
        self.checkpoints.save(self.engine, self.step, client_state, info)
        self.last_checkpoint = self.checkpoints.root / tag_for(self.step)
        if self.guard.consecutive == 0:
            self.last_good_checkpoint = self.last_checkpoint

    def _train_record(self, result: StepResult) -> dict[str, Any]:
        tokens = self.cfg.train.tokens_per_step
        tokens_per_s = tokens / result.seconds
        record: dict[str, Any] = {
            "kind": "train",
            "step": self.step,
            "loss": result.loss,
            "grad_norm": result.grad_norm,
            "lr": result.lr,
            "tokens_per_s": tokens_per_s,
            "skipped": result.skipped,
            "skipped_total": self.guard.total,
            "tokens": self.step * tokens,
        }
        if self.peak is not None:  # MFU against the dense bf16 peak, M FLOPs per token
            record["mfu"] = mfu(tokens_per_s, self.flops_per_token, self.world.size, self.peak)
        return record

    def _validate(self, logger: MetricsLogger) -> None:
        assert self.task.valid_source is not None
        stats = evaluate(
            self.engine, self.task.valid_source(self.world), self.eval_batches, self.world
        )
        logger.log({"kind": "valid", "step": self.step, **stats})

    def _due(self, every: int) -> bool:
        return every > 0 and (self.step % every == 0 or self.step == self.cfg.train.steps)

    def train(self) -> Path:
        """Train to ``train.steps``; the path of the final checkpoint."""
        cfg = self.cfg
        logger = MetricsLogger(
            cfg.run.out_dir,
            enabled=self.world.is_main,
            tensorboard=cfg.log.tensorboard,
            total_steps=cfg.train.steps,
            start_step=self.step,
        )
        with logger:
            batches = iter(self.source)
            while self.step < cfg.train.steps:
                result = train_step(self.engine, batches, self.grad_accum, self.world)
                self.step += 1
                self.guard.record(result.skipped)
                if self._due(cfg.log.every) or result.skipped:
                    logger.log(self._train_record(result))
                self.guard.check(self.step, self.last_good_checkpoint)
                if self.task.valid_source is not None and self._due(cfg.eval.every):
                    self._validate(logger)
                if self._due(cfg.checkpoint.every):
                    self._save()
        assert self.last_checkpoint is not None
        return self.last_checkpoint
