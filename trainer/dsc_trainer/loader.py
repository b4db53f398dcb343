"""The training loader: packed FIM windows from token shards, resumable from one number.

The data of a split is every document of ``python -m dsc.tokenize_corpus``'s shards
(memory-mapped, never read whole). Global window ``g`` is a pure function of ``(seed, g)``
(:mod:`dsc_trainer.packing`): epochs follow each other, each with its own shuffle and FIM draws.
One optimiser step consumes the next ``micro_batch_size * grad_accum * dp_world`` windows, and
data-parallel rank ``r`` takes its contiguous slice of them, so ranks never overlap.

The loader's state is the number of windows consumed, a global cursor. Restoring it yields
exactly the batches an uninterrupted run would: with any number of loader workers (each window
is computed alone), and with another data-parallel size as long as the global batch stays the
same (the cursor says where the global stream stands, not what each rank has seen).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from dsc.indexed_dataset import IndexedDataset
from dsc_trainer.fim import FimConfig, Sentinels
from dsc_trainer.packing import EpochIndex, Window, make_window, window_tokens

Ints = npt.NDArray[np.int64]
MANIFEST = "manifest.json"


class TokenData:
    """The documents of one split of a token-shard directory, as one indexable collection."""

    def __init__(self, data_dir: Path, split: str) -> None:
        manifest_path = data_dir / MANIFEST
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path}: not a token-shard directory")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        if split not in self.manifest["splits"]:
            raise ValueError(f"{manifest_path}: no split {split!r}")
        self.data_dir, self.split = data_dir, split
        self.prefixes = [data_dir / split / s for s in self.manifest["splits"][split]["shards"]]
        self._shards: list[IndexedDataset] | None = None
        counts = [len(s) for s in self.shards]
        self.first_doc = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.lengths: Ints = np.concatenate(
            [s.lengths.astype(np.int64) for s in self.shards] or [np.zeros(0, np.int64)]
        )
        self.token_bytes = np.load(data_dir / "token_bytes.npy").astype(np.int64)
        m = self.manifest
        self.sentinels = Sentinels(
            m["bos_id"], m["eos_id"], m["fim_begin_id"], m["fim_hole_id"], m["fim_end_id"]
        )

    @property
    def shards(self) -> list[IndexedDataset]:
        if self._shards is None:  # opened lazily: memory maps must not be pickled to workers
            self._shards = [IndexedDataset(p) for p in self.prefixes]
        return self._shards

    @property
    def tokenizer_dir(self) -> Path:
        return self.data_dir / self.manifest["tokenizer_dir"]

    @property
    def vocab_size(self) -> int:
        return int(self.manifest["vocab_size"])

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_shards": None}

    def read(self, doc: int, start: int, stop: int) -> npt.NDArray[np.integer]:
        shard = int(np.searchsorted(self.first_doc, doc, side="right")) - 1
        return self.shards[shard].read(doc - int(self.first_doc[shard]), start, stop)


@dataclass(frozen=True)
class LoaderConfig:
    seq_len: int  # tokens per window (the paper: 16384)
    micro_batch_size: int  # windows per micro-batch on each rank
    seed: int  # of the shuffle and of every FIM draw
    fim_rate: float = 0.5
    spm_rate: float = 0.0
    num_workers: int = 0  # loader processes; any number gives the same batches

    def __post_init__(self) -> None:
        for name in ("seq_len", "micro_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"LoaderConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.num_workers < 0:
            raise ValueError(f"LoaderConfig.num_workers must be >= 0, got {self.num_workers}")
        FimConfig(self.fim_rate, self.spm_rate)  # validates the rates

    @property
    def fim(self) -> FimConfig:
        return FimConfig(self.fim_rate, self.spm_rate)


class PackedWindows(Dataset[Window]):
    """Global window ``g`` -> :class:`Window`, for ``g`` over all epochs in order."""

    def __init__(self, data: TokenData, cfg: LoaderConfig) -> None:
        self.data, self.cfg = data, cfg
        self._epochs: dict[int, EpochIndex] = {}
        self._first_window = [0]  # global index of each epoch's first window

    def epoch(self, e: int) -> EpochIndex:
        if e not in self._epochs:
            if len(self._epochs) >= 2:  # an epoch index is O(documents); keep the recent ones
                self._epochs.pop(min(self._epochs))
            self._epochs[e] = EpochIndex.build(
                self.data.lengths, self.cfg.fim, self.cfg.seed, e, self.cfg.seq_len
            )
            if self._epochs[e].windows == 0:
                raise ValueError(
                    f"{self.data.data_dir} split {self.data.split!r} has fewer than "
                    f"seq_len + 1 = {self.cfg.seq_len + 1} tokens: no window fits"
                )
        return self._epochs[e]

    def windows_before(self, epoch: int) -> int:
        """Global index of the first window of ``epoch``."""
        while len(self._first_window) <= epoch:
            e = len(self._first_window) - 1
            self._first_window.append(self._first_window[-1] + self.epoch(e).windows)
        return self._first_window[epoch]

    def locate(self, g: int) -> tuple[int, int]:
        """(epoch, window within it) of global window ``g``."""
        epoch = 0
        while self.windows_before(epoch + 1) <= g:
            epoch += 1
        return epoch, g - self.windows_before(epoch)

    def __getitem__(self, g: int) -> Window:
        epoch, k = self.locate(g)
        stream, owner = window_tokens(
            self.data, self.epoch(epoch), k, self.cfg.seq_len, self.data.sentinels
        )
        return make_window(stream, owner, self.data.token_bytes)


@dataclass
class Batch:
    """A micro-batch of windows, as the model and the loss take them."""

    tokens: Tensor  # (B, T) int64
    labels: Tensor  # (B, T) int64, -100 = no loss
    doc_ids: Tensor  # (B, T) int64
    label_bytes: Tensor  # (B, T) int64

    def to(self, device: torch.device | str) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self.fields()))

    def fields(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.tokens, self.labels, self.doc_ids, self.label_bytes

    @property
    def n_tokens(self) -> int:
        return self.tokens.numel()


Arrays = tuple[Ints, Ints, Ints, Ints]


def stack_windows(windows: list[Window]) -> Arrays:
    """A micro-batch as arrays, the form loader workers send back.

    Workers send NumPy, not tensors: a tensor is pickled through torch's C++ file-descriptor
    sharing in the worker's queue thread, and a worker shut down with batches still queued (a
    loop that stops early) aborts in ``std::terminate`` when Python's exit ends that thread.
    """
    fields = ("tokens", "labels", "doc_ids", "label_bytes")
    a, b, c, d = (np.stack([getattr(w, name) for w in windows]) for name in fields)
    return a, b, c, d


def to_batch(arrays: Arrays) -> Batch:
    a, b, c, d = (torch.from_numpy(x) for x in arrays)
    return Batch(a, b, c, d)


def collate(windows: list[Window]) -> Batch:
    return to_batch(stack_windows(windows))


class RankWindows(Sampler[list[int]]):
    """This rank's micro-batches of global window indices, from ``cursor`` on.

    Step ``s`` covers windows ``cursor + s G ... cursor + (s + 1) G`` (``G`` the global batch);
    the rank's slice of it is ``micro_batch * grad_accum`` windows at ``rank * that``.
    """

    def __init__(
        self,
        cursor: int,
        global_batch: int,
        rank: int,
        per_rank: int,
        micro: int,
        total: int | None,
    ) -> None:
        self.cursor, self.global_batch, self.rank = cursor, global_batch, rank
        self.per_rank, self.micro, self.total = per_rank, micro, total

    def __iter__(self) -> Iterator[list[int]]:
        step = 0
        while self.total is None or self.cursor + step * self.global_batch < self.total:
            first = self.cursor + step * self.global_batch + self.rank * self.per_rank
            for m in range(0, self.per_rank, self.micro):
                batch = [first + m + i for i in range(self.micro)]
                if self.total is not None:
                    batch = [g for g in batch if g < self.total]
                if batch:
                    yield batch
            step += 1


class PackedLoader:
    """This rank's micro-batches of packed windows; see the module docstring.

    ``epochs=None`` streams forever (pretraining counts steps, not epochs); a number stops
    after that many passes (validation: ``epochs=1`` and ``fim_rate=0``).
    """

    def __init__(
        self,
        data_dir: Path,
        split: str,
        cfg: LoaderConfig,
        *,
        dp_rank: int = 0,
        dp_world: int = 1,
        grad_accum: int = 1,
        epochs: int | None = None,
    ) -> None:
        if not 0 <= dp_rank < dp_world or grad_accum < 1:
            raise ValueError(
                f"bad loader layout: rank {dp_rank} of {dp_world}, grad_accum {grad_accum}"
            )
        self.cfg, self.epochs = cfg, epochs
        self.data = TokenData(data_dir, split)
        self.windows = PackedWindows(self.data, cfg)
        self.rank, self.per_rank = dp_rank, cfg.micro_batch_size * grad_accum
        self.grad_accum = grad_accum
        self.global_batch = self.per_rank * dp_world
        self.cursor = 0  # global windows consumed by finished steps
        self._micro_batches = 0  # yielded since the cursor was set

    def total_windows(self) -> int | None:
        return None if self.epochs is None else self.windows.windows_before(self.epochs)

    def __iter__(self) -> Iterator[Batch]:
        self._micro_batches = 0
        sampler = RankWindows(
            self.cursor,
            self.global_batch,
            self.rank,
            self.per_rank,
            self.cfg.micro_batch_size,
            self.total_windows(),
        )
        workers = self.cfg.num_workers
        loader = DataLoader(
            self.windows,
            batch_sampler=sampler,
            num_workers=workers,
            collate_fn=stack_windows,
            multiprocessing_context="spawn" if workers else None,
            persistent_workers=False,
        )
        for arrays in loader:
            self._micro_batches += 1
            yield to_batch(arrays)

    def state_dict(self) -> dict[str, int]:
        """The global cursor, at a step boundary (after the step's last micro-batch)."""
        if self._micro_batches % self.grad_accum:
            raise RuntimeError(
                f"loader state asked for in the middle of a step ({self._micro_batches} "
                f"micro-batches, grad_accum {self.grad_accum})"
            )
        steps = self._micro_batches // self.grad_accum
        return {
            "windows_consumed": self.cursor + steps * self.global_batch,
            "seed": self.cfg.seed,
            "seq_len": self.cfg.seq_len,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        for key in ("seed", "seq_len"):
            if state[key] != getattr(self.cfg, key):
                raise ValueError(
                    f"loader state was saved with {key}={state[key]}, this run has "
                    f"{getattr(self.cfg, key)}: the data order would not continue"
                )
        self.cursor = int(state["windows_consumed"])
        self._micro_batches = 0
