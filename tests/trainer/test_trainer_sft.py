"""Instruction tuning: the chat format's loss mask, malformed rows, and ``deepspeed trainer/sft.py``
learning a tiny instruction set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.checkpoint import complete_checkpoints
from dsc_trainer.export import export
from dsc_trainer.metrics import read_metrics
from dsc_trainer.packing import IGNORE
from dsc_trainer.sft_data import (
    ChatEncoder,
    Conversation,
    SftDataError,
    SftLoader,
    SftRows,
    read_conversations,
)

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent

# Text with code, unicode, and the special tokens' own strings (which must stay text).
PIECES = [*"abc xyz_(){}:=+\n\t\"'éλ中🙂", "<|EOT|>", "<|User|>", "def ", "    "]
texts = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


def as_row(conversation: Conversation) -> dict:
    system = [("system", conversation.system)] if conversation.system else []
    return {"messages": [{"role": r, "content": c} for r, c in system + list(conversation.turns)]}


@st.composite
def conversations(draw) -> Conversation:
    turns = draw(st.lists(st.tuples(texts, texts), min_size=1, max_size=4))
    pairs = tuple(p for user, answer in turns for p in (("user", user), ("assistant", answer)))
    return Conversation("test:1", draw(st.none() | texts), pairs)


@pytest.fixture(scope="module")
def encoder(token_corpus) -> ChatEncoder:
    return ChatEncoder.load(token_corpus.tokenizer_dir)


@given(conversation=conversations())
def test_loss_mask_covers_exactly_the_answers_and_their_eot(encoder, conversation):
    tokens, trained = encoder.encode(conversation)
    decode = encoder.tokenizer.decode
    assert tokens[0] == encoder.bos and not trained[0]
    # trained tokens are the answers, each followed by one EOT, in order
    answers = [c for role, c in conversation.turns if role == "assistant"]
    runs, current = [], []
    for token, is_trained in zip(tokens, trained, strict=True):
        if is_trained:
            current.append(int(token))
            if token == encoder.eot:
                runs.append(current)
                current = []
    assert not current
    assert [decode(run[:-1], skip_special_tokens=False) for run in runs] == answers
    assert all(run[-1] == encoder.eot and encoder.eot not in run[:-1] for run in runs)
    # untrained: BOS, the system text, role tokens, the questions and their EOTs
    roles = [t for t in tokens[~trained] if t in (encoder.user, encoder.assistant)]
    assert roles == [encoder.user, encoder.assistant] * len(answers)
    assert int((tokens[~trained] == encoder.eot).sum()) == len(answers)  # the questions' EOTs


@given(batch=st.lists(conversations(), min_size=1, max_size=6))
def test_packed_labels_are_exactly_the_next_answer_tokens(encoder, tmp_path_factory, batch):
    path = tmp_path_factory.mktemp("sft") / "rows.jsonl"
    rows = [as_row(x) for x in batch]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    encoded = [encoder.encode(c) for c in read_conversations([path])]
    fits = [trained for tokens, trained in encoded if len(tokens) <= 129]  # a row: seq_len + 1
    if not fits:
        with pytest.raises(SftDataError, match="longer than"):
            SftRows([path], encoder, seq_len=128, seed=0)
        return
    data = SftRows([path], encoder, seq_len=128, seed=0)
    assert len(data.too_long) == len(encoded) - len(fits)
    expected_labels = sum(int(trained[1:].sum()) for trained in fits)  # [0] is BOS
    windows = [data.window(g) for g in range(len(data))]
    assert sum(int((w.labels != IGNORE).sum()) for w in windows) == expected_labels
    for w in windows:
        scored = w.labels != IGNORE
        # each scored label is the next input token of the same conversation
        assert np.array_equal(w.labels[:-1][scored[:-1]], w.tokens[1:][scored[:-1]])
        assert (w.label_bytes[~scored] == 0).all()
        assert (w.label_bytes[scored] == data.token_bytes[w.labels[scored]]).all()


def test_malformed_rows_are_reported_with_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = {"instruction": "Say hi.", "output": "hi"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"messages": [{"role": "assistant", "content": "no question"}]}),
        "",
        json.dumps({"instruction": "no output"}),
        json.dumps(
            {"messages": [{"role": "user", "content": 3}, {"role": "assistant", "content": ""}]}
        ),
        json.dumps([1, 2]),
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SftDataError) as error:
        read_conversations([path])
    message = str(error.value)
    assert message.startswith("5 malformed rows")
    for line in (2, 3, 5, 6, 7):
        assert f"{path}:{line}: " in message
    assert f"{path}:1:" not in message and "messages[0].content" in message


def _instruction_set(path: Path) -> None:
    rows = []
    for a in range(1, 7):
        for b in range(1, 4):
            rows.append({"instruction": f"Add {a} and {b}.", "output": f"{a + b}"})
    rows.append(
        {
            "messages": [
                {"role": "system", "content": "You write Python."},
                {"role": "user", "content": "Name a list method."},
                {"role": "assistant", "content": "append"},
                {"role": "user", "content": "Another?"},
                {"role": "assistant", "content": "extend"},
            ]
        }
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_sft_launch_learns_a_tiny_instruction_set(token_corpus, tmp_path):
    data = tmp_path / "sft.jsonl"
    _instruction_set(data)
    out = tmp_path / "run"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    command = [
        str(BIN / "deepspeed"),
        "--num_gpus",
        "2",
        str(REPO / "trainer" / "sft.py"),
        "--config",
        str(REPO / "trainer" / "configs" / "debug_sft.toml"),
        "--set",
        f"data.train=['{data}']",
        "--set",
        f"data.valid=['{data}']",
        "--set",
        f"data.tokenizer_dir={token_corpus.tokenizer_dir}",
        "--set",
        f"run.out_dir={out}",
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = read_metrics(out / "metrics.jsonl")
    train = [r for r in records if r["kind"] == "train"]
    valid = [r for r in records if r["kind"] == "valid"]
    assert train[-1]["step"] == 40 and [r["step"] for r in valid] == [20, 40]
    assert train[-1]["loss"] < 0.3 * train[0]["loss"]  # well below its start
    assert valid[-1]["loss"] < 0.3 * train[0]["loss"]
    # the same checkpoints and export as pretraining
    assert [c.step for c in complete_checkpoints(out / "checkpoints")] == [40]
    exported = export(out / "checkpoints", tmp_path / "hf")
    assert (exported / "tokenizer.json").is_file() and (exported / "model.safetensors").is_file()


def test_sft_loader_resumes_from_its_cursor(encoder, tmp_path):
    data = tmp_path / "sft.jsonl"
    _instruction_set(data)
    rows = SftRows([data], encoder, seq_len=32, seed=3)
    loader = SftLoader(rows, 2, dp_rank=0, dp_world=1, grad_accum=2)
    stream = iter(loader)
    first = [next(stream) for _ in range(6)]
    state = loader.state_dict()
    rest = [next(stream) for _ in range(4)]
    resumed = SftLoader(rows, 2, dp_rank=0, dp_world=1, grad_accum=2)
    resumed.load_state_dict(state)
    again = iter(resumed)
    for batch in rest:
        assert all(
            np.array_equal(a, b) for a, b in zip(batch.fields(), next(again).fields(), strict=True)
        )
    assert state["rows_consumed"] == 12 and len(first) == 6
