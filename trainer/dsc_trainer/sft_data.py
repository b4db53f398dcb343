"""Instruction data for ``trainer/sft.py``: JSONL conversations -> packed, response-only batches.

Each line of a file is one JSON object, either Alpaca-style (``input`` is optional and joins the
instruction after a blank line)::

    {"instruction": "...", "input": "...", "output": "..."}

or a multi-turn conversation: an optional system message, then user and assistant turns
alternating, from a user turn to an assistant turn::

    {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}

Malformed rows are all reported at once, each as ``FILE:LINE: what is wrong``.

Chat format (DeepSeek-Coder §3.7, the released special tokens)::

    BOS [system + "\\n\\n"] <|User|> question <|EOT|> <|Assistant|> answer <|EOT|> ...

The loss is on the assistant answers and the ``<|EOT|>`` that ends each of them (so the model
learns to stop), never on the system text, the questions or the role tokens. Each piece is
encoded on its own, so no BPE merge crosses a prompt/response seam and the mask is exact.

Conversations are packed in file order into rows of ``seq_len + 1`` tokens, each its own
document (per-document attention, positions restarting, no loss across the boundary) with
``<pad>`` filling a row's rest. A conversation longer than a row is left out and counted
(``SftRows.too_long``), not cut: a cut would train on an answer without its end. Rows are
shuffled per epoch from ``(seed, epoch)``; the loader's state is the global number of rows
consumed, as for pretraining (``dsc_trainer.loader``), so a resume continues exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from dsc.special_tokens import ASSISTANT, BOS, EOT, PAD, USER
from dsc.tokenizer import load_tokenizer, token_bytes
from dsc_trainer.loader import Batch, RankWindows, collate
from dsc_trainer.packing import IGNORE, Window, make_window

Ints = npt.NDArray[np.int64]
ROLES = ("system", "user", "assistant")
MAX_REPORTED = 20  # malformed rows listed in one error


class SftDataError(ValueError):
    pass


@dataclass(frozen=True)
class Conversation:
    where: str  # FILE:LINE
    system: str | None
    turns: tuple[tuple[str, str], ...]  # (role, content), user and assistant alternating


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise SftDataError(f"{field!r} must be a string, got {type(value).__name__}")
    return value


def _alpaca(row: dict[str, Any], where: str) -> Conversation:
    instruction = _text(row["instruction"], "instruction")
    extra = _text(row.get("input", ""), "input")
    question = f"{instruction}\n\n{extra}" if extra else instruction
    answer = _text(row.get("output"), "output")
    return Conversation(where, None, (("user", question), ("assistant", answer)))


def _messages(messages: Any, where: str) -> Conversation:
    if not isinstance(messages, list) or not messages:
        raise SftDataError("'messages' must be a non-empty list")
    pairs: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise SftDataError(f"messages[{i}] needs a 'role' among {list(ROLES)}")
        pairs.append((message["role"], _text(message.get("content"), f"messages[{i}].content")))
    system = pairs.pop(0)[1] if pairs[0][0] == "system" else None
    expected = ["user", "assistant"] * (len(pairs) // 2)
    if not pairs or [role for role, _ in pairs] != expected:
        raise SftDataError(
            "after an optional system message, turns must alternate user, assistant, ... "
            "and end with an assistant turn"
        )
    return Conversation(where, system, tuple(pairs))


def parse_row(line: str, where: str) -> Conversation:
    """One JSONL line as a conversation; SftDataError says what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise SftDataError(f"not JSON: {error}") from None
    if not isinstance(row, dict):
        raise SftDataError("a row must be a JSON object")
    if "messages" in row:
        return _messages(row["messages"], where)
    if "instruction" in row:
        return _alpaca(row, where)
    raise SftDataError("a row needs 'messages' or 'instruction' and 'output'")


def read_conversations(paths: Sequence[Path]) -> list[Conversation]:
    """Every conversation of the files, in order; raises listing every malformed row."""
    conversations: list[Conversation] = []
    errors: list[str] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    conversations.append(parse_row(line, where))
                except SftDataError as error:
                    errors.append(f"{where}: {error}")
    if errors:
        shown = "\n".join(errors[:MAX_REPORTED])
        more = f"\n... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        raise SftDataError(f"{len(errors)} malformed rows:\n{shown}{more}")
    if not conversations:
        raise SftDataError(f"no conversations in {[str(p) for p in paths]}")
    return conversations


@dataclass(frozen=True)
class ChatEncoder:
    """Conversations -> token ids and the response mask, with a dsc tokenizer."""

    tokenizer: Tokenizer  # special-token strings in the text stay text (load_tokenizer's default)
    bos: int
    user: int
    assistant: int
    eot: int
    pad: int

    @classmethod
    def load(cls, tokenizer_dir: Path) -> ChatEncoder:
        tokenizer = load_tokenizer(tokenizer_dir)
        ids = [tokenizer.token_to_id(t) for t in (BOS, USER, ASSISTANT, EOT, PAD)]
        if None in ids:
            raise SftDataError(f"{tokenizer_dir}: the tokenizer lacks the chat special tokens")
        return cls(tokenizer, *ids)

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, conversation: Conversation) -> tuple[Ints, npt.NDArray[np.bool_]]:
        """Token ids and, per token, whether it is trained on (answers and their EOT)."""
        pieces: list[tuple[list[int], bool]] = [([self.bos], False)]
        if conversation.system:
            pieces.append((self._encode(conversation.system + "\n\n"), False))
        for role, content in conversation.turns:
            answer = role == "assistant"
            pieces.append(([self.assistant if answer else self.user], False))
            pieces.append(([*self._encode(content), self.eot], answer))
        tokens = np.array([t for ids, _ in pieces for t in ids], dtype=np.int64)
        mask = np.array([trained for ids, trained in pieces for _ in ids], dtype=np.bool_)
        return tokens, mask


@dataclass(frozen=True)
class PackedRows:
    tokens: Ints  # (rows, row_len)
    owner: Ints  # (rows, row_len) conversation index; -1 for padding
    trained: npt.NDArray[np.bool_]  # (rows, row_len)


def pack(
    encoded: Sequence[tuple[Ints, npt.NDArray[np.bool_]]], row_len: int, pad: int
) -> tuple[PackedRows, list[int]]:
    """Greedy packing in order; also the indices of conversations longer than a row."""
    rows: list[list[int]] = [[]]
    too_long: list[int] = []
    used = 0  # tokens in the last row
    for index, (tokens, _) in enumerate(encoded):
        if len(tokens) > row_len:
            too_long.append(index)
            continue
        if used + len(tokens) > row_len:
            rows.append([])
            used = 0
        rows[-1].append(index)
        used += len(tokens)
    shape = (len(rows), row_len)
    out = PackedRows(
        np.full(shape, pad, np.int64), np.full(shape, -1, np.int64), np.zeros(shape, np.bool_)
    )
    for r, members in enumerate(rows):
        at = 0
        for index in members:
            tokens, trained = encoded[index]
            end = at + len(tokens)
            out.tokens[r, at:end], out.owner[r, at:end], out.trained[r, at:end] = (
                tokens,
                index,
                trained,
            )
            at = end
    return out, too_long


class SftRows:
    """The packed rows of some JSONL files; global row ``g`` of epoch ``g // len`` shuffled."""

    def __init__(
        self, paths: Sequence[Path], encoder: ChatEncoder, seq_len: int, seed: int
    ) -> None:
        conversations = read_conversations(paths)
        encoded = [encoder.encode(c) for c in conversations]
        self.rows, too_long = pack(encoded, seq_len + 1, encoder.pad)
        self.too_long = [conversations[i].where for i in too_long]
        if len(self.too_long) == len(conversations):
            raise SftDataError(f"every conversation is longer than seq_len + 1 = {seq_len + 1}")
        self.token_bytes = token_bytes(encoder.tokenizer).astype(np.int64)
        self.seed = seed
        self.seq_len = seq_len

    def __len__(self) -> int:
        return len(self.rows.tokens)

    def window(self, g: int) -> Window:
        epoch, position = divmod(g, len(self))
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self))
        r = int(order[position])
        stream, owner = self.rows.tokens[r], self.rows.owner[r]
        window = make_window(stream, owner, self.token_bytes)
        trained = self.rows.trained[r, 1:]  # is each label (the next token) an answer token?
        return Window(
            window.tokens,
            np.where(trained, window.labels, IGNORE),
            window.doc_ids,
            np.where(trained, window.label_bytes, 0),
        )


class SftLoader:
    """This rank's micro-batches of ``SftRows``, resumable from the global rows consumed."""

    def __init__(
        self,
        rows: SftRows,
        micro_batch_size: int,
        *,
        dp_rank: int = 0,
        dp_world: int = 1,
        grad_accum: int = 1,
        epochs: int | None = None,
    ) -> None:
        self.rows = rows
        self.micro = micro_batch_size
        self.rank, self.per_rank = dp_rank, micro_batch_size * grad_accum
        self.grad_accum = grad_accum
        self.global_batch = self.per_rank * dp_world
        self.total = None if epochs is None else epochs * len(rows)
        self.cursor = 0
        self._micro_batches = 0

    def __iter__(self) -> Iterator[Batch]:
        self._micro_batches = 0
        sampler = RankWindows(
            self.cursor, self.global_batch, self.rank, self.per_rank, self.micro, self.total
        )
        for indices in sampler:
            self._micro_batches += 1
            yield collate([self.rows.window(g) for g in indices])

    def state_dict(self) -> dict[str, int]:
        if self._micro_batches % self.grad_accum:
            raise RuntimeError("SFT loader state asked for in the middle of a step")
        steps = self._micro_batches // self.grad_accum
        return {
            "rows_consumed": self.cursor + steps * self.global_batch,
            "seed": self.rows.seed,
            "seq_len": self.rows.seq_len,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        for key, value in (("seed", self.rows.seed), ("seq_len", self.rows.seq_len)):
            if state[key] != value:
                raise ValueError(f"SFT loader state has {key}={state[key]}, this run {value}")
        self.cursor = int(state["rows_consumed"])
        self._micro_batches = 0
