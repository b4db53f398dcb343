"""Document-level fill-in-the-middle (DeepSeek-Coder §3.1), decided per document from a seed.

A stored document is ``[BOS] text [EOS]``. With probability ``fim_rate`` it is rearranged, with
two cut points ``c1 <= c2`` drawn uniformly over the token positions of ``text`` (prefix
``text[:c1]``, middle ``text[c1:c2]``, suffix ``text[c2:]``), into

* PSM: ``BOS FIM_BEGIN prefix FIM_HOLE suffix FIM_END middle EOS`` (DeepSeek-Coder's format), or
* SPM, with probability ``spm_rate`` among FIM documents: ``BOS FIM_BEGIN FIM_HOLE suffix
  FIM_END prefix middle EOS`` (Bavarian et al.'s "SPM variant 2", as bigcode's Megatron and Code
  Llama lay it out: prefix and middle stay contiguous).

Cuts are token positions, and FIM happens when batches are loaded (not when tokenising), so the
rate can change without re-tokenising and each epoch draws new cuts. The cost of token cuts:
a middle always starts and ends at a token boundary, whereas character cuts (Bavarian et al.,
bigcode) also teach completing a half-written token. For the paper's line-level infilling
benchmarks that costs nothing (every line starts a new pre-tokenizer piece, see
``dsc.tokenizer``, so a cut at a line start is a token boundary); what it buys is
that every document's length after FIM is known without touching its tokens (``+3``), so the
window index of an epoch is one vectorised pass over document lengths and any window can be
built alone, by any loader worker, in any order.

Every choice is a hash of ``(seed, epoch, document index, purpose)``: no generator state to
checkpoint, and loader workers cannot repeat each other's draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]

# Purposes of a draw: each gets its own stream of hashes.
_FIM, _SPM, _CUT1, _CUT2, _ORDER = 1, 2, 3, 4, 5
#: Tokens FIM adds to a document: three sentinels (BOS and EOS it already has).
FIM_EXTRA_TOKENS = 3


def _mix(x: U64) -> U64:
    """SplitMix64's finaliser: a bijection of uint64 whose outputs look independent."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def draws(seed: int, epoch: int, docs: Ints, purpose: int) -> U64:
    """One uint64 per document index, a pure function of all four arguments."""
    with np.errstate(over="ignore"):
        key = _mix(np.array([seed & (2**64 - 1)], dtype=np.uint64))
        key = _mix(key ^ np.uint64(epoch))
        key = _mix(key ^ np.uint64(purpose))
        return _mix(key ^ docs.astype(np.uint64))


def uniform(bits: U64) -> npt.NDArray[np.float64]:
    """uint64 draws -> floats uniform in [0, 1) (the top 53 bits)."""
    return (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def epoch_order(seed: int, epoch: int, n_docs: int) -> Ints:
    """The documents of an epoch in shuffled order: sorted by a hash, stable across versions."""
    keys = draws(seed, epoch, np.arange(n_docs, dtype=np.int64), _ORDER)
    return np.argsort(keys, kind="stable").astype(np.int64)


@dataclass(frozen=True)
class FimConfig:
    fim_rate: float = 0.5  # share of documents rearranged (DeepSeek-Coder §3.1)
    spm_rate: float = 0.0  # share of those in SPM rather than PSM order

    def __post_init__(self) -> None:
        for name in ("fim_rate", "spm_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FimConfig.{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class FimPlan:
    """What FIM does to a batch of documents in one epoch (arrays aligned with ``docs``)."""

    fim: npt.NDArray[np.bool_]
    spm: npt.NDArray[np.bool_]
    cut1: Ints  # prefix = text[:cut1]
    cut2: Ints  # middle = text[cut1:cut2], suffix = text[cut2:]


def plan(cfg: FimConfig, seed: int, epoch: int, docs: Ints, text_lengths: Ints) -> FimPlan:
    """The FIM decisions for documents ``docs`` whose texts have ``text_lengths`` tokens."""
    fim = uniform(draws(seed, epoch, docs, _FIM)) < cfg.fim_rate
    spm = fim & (uniform(draws(seed, epoch, docs, _SPM)) < cfg.spm_rate)
    # Two points uniform over the n + 1 positions 0..n, then sorted (bigcode's randint(0, n+1, 2)).
    span = text_lengths.astype(np.float64) + 1.0
    a = np.floor(uniform(draws(seed, epoch, docs, _CUT1)) * span).astype(np.int64)
    b = np.floor(uniform(draws(seed, epoch, docs, _CUT2)) * span).astype(np.int64)
    return FimPlan(fim=fim, spm=spm, cut1=np.minimum(a, b), cut2=np.maximum(a, b))


@dataclass(frozen=True)
class Sentinels:
    bos: int
    eos: int
    fim_begin: int
    fim_hole: int
    fim_end: int


# A piece of a rearranged document: a sentinel id (stop == -1) or text tokens [start, stop).
Piece = tuple[int, int]


def layout(n_text: int, fim: bool, spm: bool, c1: int, c2: int, s: Sentinels) -> list[Piece]:
    """The pieces of one document after FIM, in order; text ranges index ``text``."""
    if not fim:
        return [(s.bos, -1), (0, n_text), (s.eos, -1)] if n_text else [(s.bos, -1), (s.eos, -1)]
    prefix, middle, suffix = (0, c1), (c1, c2), (c2, n_text)
    if spm:
        pieces = [(s.bos, -1), (s.fim_begin, -1), (s.fim_hole, -1), suffix, (s.fim_end, -1)]
        pieces += [(0, c2), (s.eos, -1)]  # prefix + middle, contiguous
    else:
        pieces = [(s.bos, -1), (s.fim_begin, -1), prefix, (s.fim_hole, -1), suffix]
        pieces += [(s.fim_end, -1), middle, (s.eos, -1)]
    return [p for p in pieces if p[1] == -1 or p[1] > p[0]]


def assemble(text: npt.NDArray[np.integer], pieces: list[Piece]) -> Ints:
    """The whole rearranged document (tests and small documents)."""
    parts = [np.array([p[0]]) if p[1] == -1 else np.asarray(text[p[0] : p[1]]) for p in pieces]
    return np.concatenate(parts).astype(np.int64)
