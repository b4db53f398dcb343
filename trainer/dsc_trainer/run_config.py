"""The run settings of ``trainer/pretrain.py`` and ``trainer/sft.py``, one dataclass per TOML table.

Defaults are the papers' (DeepSeek-Coder §3, arXiv:2401.14196; DeepSeek LLM §2,
arXiv:2401.02954) wherever they give a value; ``trainer/configs/*.toml`` set the rest per run.
Batch sizes are global and in sequences, as the paper gives them; the gradient accumulation
follows from the number of ranks (``RunConfig.grad_accum``), so a run resumed on another number
of ranks keeps its global batch and data order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dsc_trainer.config import AttentionBackendName, ModelConfig, named_config
from dsc_trainer.settings import ConfigError, require

Precision = Literal["bf16", "fp32"]
ScheduleKind = Literal["multistep", "cosine"]

VOCAB_MULTIPLE = 128  # embedding rows padded to a multiple of this (tensor-core friendly shapes)


@dataclass(frozen=True)
class RunSection:
    name: str = "run"
    out_dir: Path = Path("runs/run")  # checkpoints/, metrics.jsonl, tensorboard/, deepspeed.json
    seed: int = 0  # model init and the data order (FIM, shuffling) derive from it
    precision: Precision = "bf16"  # bf16: bf16 weights/activations, fp32 master weights (ZeRO)


@dataclass(frozen=True)
class ModelSection:
    size: str = "tiny"  # a key of dsc_trainer.config.SIZES
    vocab_size: int | None = None  # None: the token shards' vocabulary rounded up to 128
    max_seq_len: int | None = None  # None: the size's
    rope_theta: float | None = None  # None: the size's (10,000)
    rope_scaling: float | None = None  # None: the size's (1.0)
    attention_backend: AttentionBackendName = "auto"
    activation_checkpointing: bool = False  # recompute each block in backward (saves memory)

    def __post_init__(self) -> None:
        try:
            named_config(self.size)
        except KeyError as error:
            raise ConfigError("size", str(error.args[0])) from None

    def build(self, data_vocab_size: int) -> ModelConfig:
        """The model for data with ``data_vocab_size`` token ids (fixed ``vocab_size`` wins)."""
        vocab = self.vocab_size or VOCAB_MULTIPLE * math.ceil(data_vocab_size / VOCAB_MULTIPLE)
        if vocab < data_vocab_size:
            raise ConfigError(
                "model.vocab_size", f"{vocab} is smaller than the data's {data_vocab_size} ids"
            )
        base = named_config(self.size)
        changes = {
            name: value
            for name in ("max_seq_len", "rope_theta", "rope_scaling")
            if (value := getattr(self, name)) is not None
        }
        return base.replace(
            vocab_size=vocab,
            attention_backend=self.attention_backend,
            activation_checkpointing=self.activation_checkpointing,
            **changes,
        )


@dataclass(frozen=True)
class TrainSection:
    steps: int = 476_837  # optimizer steps (2T tokens at the default batch)
    # sequences per optimizer step, over all ranks (DeepSeek-Coder §3.3)
    global_batch_size: int = 1024
    micro_batch_size: int = 1  # sequences per rank per forward pass
    seq_len: int = 4096
    max_consecutive_skips: int = 5  # non-finite steps in a row that stop the run

    def __post_init__(self) -> None:
        for name in ("steps", "global_batch_size", "micro_batch_size", "seq_len"):
            require(getattr(self, name) > 0, name, "must be positive")
        require(self.max_consecutive_skips > 0, "max_consecutive_skips", "must be positive")
        require(
            self.global_batch_size % self.micro_batch_size == 0,
            "global_batch_size",
            f"{self.global_batch_size} is not a multiple of micro_batch_size "
            f"{self.micro_batch_size}",
        )

    @property
    def tokens_per_step(self) -> int:
        return self.global_batch_size * self.seq_len


@dataclass(frozen=True)
class OptimSection:
    """AdamW as DeepSeek LLM trains (DeepSeek LLM §2.3)."""

    lr: float = 5.3e-4  # peak learning rate (1.3B)
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.1  # on the matrices only; see dsc_trainer.optim.param_groups
    grad_clip: float = 1.0  # max global gradient norm

    def __post_init__(self) -> None:
        require(self.lr > 0, "lr", "must be > 0")
        for name in ("beta1", "beta2"):
            require(0 <= getattr(self, name) < 1, name, "must be in [0, 1)")
        require(self.eps > 0, "eps", "must be > 0")
        require(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        require(self.grad_clip > 0, "grad_clip", "must be > 0")


@dataclass(frozen=True)
class ScheduleSection:
    """Learning-rate factor over the steps; see dsc_trainer.schedule."""

    kind: ScheduleKind = "multistep"
    warmup_steps: int = 2000
    # multistep: after these fractions of the training tokens, the factor drops to these values
    milestones: tuple[float, ...] = (0.8, 0.9)
    factors: tuple[float, ...] = (0.316, 0.1)
    min_lr_ratio: float = 0.0  # cosine: the factor it decays to

    def __post_init__(self) -> None:
        require(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        require(
            len(self.milestones) == len(self.factors),
            "factors",
            f"needs one factor per milestone ({len(self.milestones)})",
        )
        require(
            all(0 < m < 1 for m in self.milestones)
            and list(self.milestones) == sorted(self.milestones),
            "milestones",
            "must be increasing fractions in (0, 1)",
        )
        require(all(f > 0 for f in self.factors), "factors", "must be > 0")
        require(0 <= self.min_lr_ratio <= 1, "min_lr_ratio", "must be in [0, 1]")


@dataclass(frozen=True)
class ParallelSection:
    zero_stage: Literal[1, 2, 3] = 2  # ZeRO stage; >= 1 so that a non-finite step is skipped


@dataclass(frozen=True)
class CheckpointSection:
    every: int = 1000  # steps between checkpoints (one is always written at the end)
    keep: int = 3  # complete checkpoints kept; older ones are deleted
    init_from: Path | None = (
        None  # weights only (new optimizer and schedule): a checkpoint or HF dir
    )

    def __post_init__(self) -> None:
        require(self.every > 0, "every", "must be positive")
        require(self.keep > 0, "keep", "must be positive")


@dataclass(frozen=True)
class EvalSection:
    every: int = 1000  # steps between validations (0: never)
    windows: int = 256  # held-out sequences per validation, over all ranks

    def __post_init__(self) -> None:
        require(self.every >= 0, "every", "must be >= 0")
        require(self.windows > 0, "windows", "must be positive")


@dataclass(frozen=True)
class LogSection:
    every: int = 10  # steps between log lines / JSONL records
    tensorboard: bool = True  # also write TensorBoard events when the package is installed

    def __post_init__(self) -> None:
        require(self.every > 0, "every", "must be positive")


@dataclass(frozen=True)
class PretrainData:
    dir: Path = Path("out/tokens")  # output of python -m dsc.tokenize_corpus
    fim_rate: float = 0.5  # document-level FIM (DeepSeek-Coder §3.1)
    spm_rate: float = 0.0  # share of FIM documents in SPM rather than PSM order
    num_workers: int = 0

    def __post_init__(self) -> None:
        require(0 <= self.fim_rate <= 1, "fim_rate", "must be in [0, 1]")
        require(0 <= self.spm_rate <= 1, "spm_rate", "must be in [0, 1]")
        require(self.num_workers >= 0, "num_workers", "must be >= 0")


@dataclass(frozen=True)
class SftData:
    train: tuple[Path, ...] = ()  # instruction JSONL files (see dsc_trainer.sft_data)
    valid: tuple[Path, ...] = ()
    tokenizer_dir: Path = Path("out/tokenizer")  # output of python -m dsc.train_tokenizer


@dataclass(frozen=True)
class RunConfig:
    """Everything but the data: shared by pretraining and instruction tuning."""

    run: RunSection = field(default_factory=RunSection)
    model: ModelSection = field(default_factory=ModelSection)
    train: TrainSection = field(default_factory=TrainSection)
    optim: OptimSection = field(default_factory=OptimSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    parallel: ParallelSection = field(default_factory=ParallelSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)
    eval: EvalSection = field(default_factory=EvalSection)
    log: LogSection = field(default_factory=LogSection)

    def __post_init__(self) -> None:
        require(
            self.schedule.warmup_steps <= self.train.steps,
            "schedule.warmup_steps",
            f"{self.schedule.warmup_steps} exceeds train.steps {self.train.steps}",
        )

    def grad_accum(self, world_size: int) -> int:
        """Micro-batches per rank per step, so that the global batch holds on ``world_size``."""
        per_pass = self.train.micro_batch_size * world_size
        require(
            self.train.global_batch_size % per_pass == 0,
            "train.global_batch_size",
            f"{self.train.global_batch_size} is not a multiple of micro_batch_size x ranks "
            f"({self.train.micro_batch_size} x {world_size})",
        )
        return self.train.global_batch_size // per_pass

    def eval_batches(self, world_size: int) -> int:
        """Validation micro-batches per rank: ``eval.windows`` over all ranks."""
        per_pass = self.train.micro_batch_size * world_size
        require(
            self.eval.windows % per_pass == 0,
            "eval.windows",
            f"{self.eval.windows} is not a multiple of micro_batch_size x ranks "
            f"({self.train.micro_batch_size} x {world_size})",
        )
        return self.eval.windows // per_pass


@dataclass(frozen=True)
class PretrainConfig(RunConfig):
    data: PretrainData = field(default_factory=PretrainData)


@dataclass(frozen=True)
class SftConfig(RunConfig):
    data: SftData = field(default_factory=SftData)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.data.train) > 0, "data.train", "needs at least one JSONL file")
