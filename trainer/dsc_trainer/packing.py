"""Packing an epoch of documents into fixed windows, any window computable on its own.

An epoch's stream is every document of a split, in the epoch's shuffled order, each after FIM
(:mod:`dsc_trainer.fim`), back to back. Window ``k`` of the epoch is stream tokens
``[k T, k T + T + 1)``: ``T`` inputs and, shifted by one, their labels (the last token is the
first of the next window, as in Megatron, so no token goes unpredicted). The tail that does not
fill a window is dropped. Because FIM adds a known number of tokens, the whole epoch's layout is
one cumulative sum over document lengths (:class:`EpochIndex`) and reading a window touches only
the tokens in it.

Per window the model gets ``doc_ids`` (a label per document; a new document starts where it
changes, so attention stays inside documents and positions restart at 0; ``cu_seqlens`` for
flash-attn's varlen kernel come from the same labels in ``dsc_trainer.attention``) and labels
with ``-100`` wherever the next token belongs to another document: nothing is predicted across
a document boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dsc_trainer.fim import FIM_EXTRA_TOKENS, FimConfig, Sentinels, epoch_order, layout, plan

Ints = npt.NDArray[np.int64]
IGNORE = -100  # label of a position that is not trained on


class Documents(Protocol):
    """Stored documents ``[BOS] text [EOS]``, readable by slices."""

    @property
    def lengths(self) -> Ints: ...

    def read(self, doc: int, start: int, stop: int) -> npt.NDArray[np.integer]: ...


@dataclass(frozen=True)
class EpochIndex:
    """Where each document of one epoch lies in the stream."""

    order: Ints  # document index at each stream position
    fim: npt.NDArray[np.bool_]
    spm: npt.NDArray[np.bool_]
    cut1: Ints
    cut2: Ints
    starts: Ints  # stream offset of each position's document, plus the total at the end
    windows: int

    @classmethod
    def build(
        cls, lengths: Ints, cfg: FimConfig, seed: int, epoch: int, seq_len: int
    ) -> EpochIndex:
        order = epoch_order(seed, epoch, len(lengths))
        stored = lengths[order]
        decided = plan(cfg, seed, epoch, order, stored - 2)
        sizes = stored + FIM_EXTRA_TOKENS * decided.fim
        starts = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        windows = max(int(starts[-1]) - 1, 0) // seq_len
        return cls(order, decided.fim, decided.spm, decided.cut1, decided.cut2, starts, windows)


def window_tokens(
    docs: Documents, index: EpochIndex, k: int, seq_len: int, sentinels: Sentinels
) -> tuple[Ints, Ints]:
    """Tokens ``(seq_len + 1,)`` of window ``k`` and the stream position of each one's document."""
    lo, hi = k * seq_len, k * seq_len + seq_len + 1
    tokens = np.empty(hi - lo, dtype=np.int64)
    owner = np.empty(hi - lo, dtype=np.int64)
    position = int(np.searchsorted(index.starts, lo, side="right")) - 1
    filled = 0
    while filled < hi - lo:
        start = int(index.starts[position])
        a, b = max(lo - start, 0), min(hi, int(index.starts[position + 1])) - start
        n = _copy_document_slice(docs, index, position, a, b, sentinels, tokens[filled:])
        owner[filled : filled + n] = position
        filled += n
        position += 1
    return tokens, owner


def _copy_document_slice(
    docs: Documents,
    index: EpochIndex,
    position: int,
    a: int,
    b: int,
    sentinels: Sentinels,
    out: Ints,
) -> int:
    """Write tokens ``[a, b)`` of the FIM-arranged document at ``position`` into ``out``."""
    doc = int(index.order[position])
    n_text = int(docs.lengths[doc]) - 2
    pieces = layout(
        n_text,
        bool(index.fim[position]),
        bool(index.spm[position]),
        int(index.cut1[position]),
        int(index.cut2[position]),
        sentinels,
    )
    offset = written = 0
    for first, stop in pieces:
        size = 1 if stop == -1 else stop - first
        lo, hi = max(a, offset), min(b, offset + size)
        if lo < hi:
            if stop == -1:
                out[written] = first
            else:  # text token t is stored token t + 1 (after BOS)
                skip = lo - offset
                out[written : written + hi - lo] = docs.read(
                    doc, 1 + first + skip, 1 + first + skip + hi - lo
                )
            written += hi - lo
        offset += size
    return written


@dataclass(frozen=True)
class Window:
    """One training row: inputs, labels and what bits per byte needs."""

    tokens: Ints  # (T,)
    labels: Ints  # (T,) next token, IGNORE across document boundaries
    doc_ids: Ints  # (T,)
    label_bytes: Ints  # (T,) UTF-8 bytes of each label (0 for special and ignored ones)


def make_window(stream: Ints, owner: Ints, token_bytes: npt.NDArray[np.integer]) -> Window:
    """Inputs and labels from ``T + 1`` stream tokens and their documents."""
    same = owner[1:] == owner[:-1]
    labels = np.where(same, stream[1:], IGNORE)
    label_bytes = np.where(same, token_bytes[stream[1:]], 0).astype(np.int64)
    return Window(stream[:-1], labels, owner[:-1], label_bytes)
