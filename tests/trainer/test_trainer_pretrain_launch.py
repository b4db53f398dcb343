"""``deepspeed trainer/pretrain.py`` on CPU ranks (gloo, ZeRO-2) over token shards of real code.

One reference run, and one run that is SIGKILLed twice (half-way through writing a
checkpoint, then during training) and resumed each time with ``--resume``: every logged loss,
gradient norm, learning rate and validation figure must equal the reference's exactly. The
final checkpoint is exported to a Hugging Face directory that transformers loads. Then, in
single-process runs (``python trainer/pretrain.py``, no launcher): the long-context stage
continues the reference's weights, and a diverging run stops on its skipped steps.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from dsc_trainer.checkpoint import (
    MARKER,
    UNIVERSAL,
    complete_checkpoints,
    read_checkpoint,
    tag_for,
)
from dsc_trainer.export import export
from dsc_trainer.hf_convert import load_checkpoint
from dsc_trainer.loader import LoaderConfig, PackedLoader
from dsc_trainer.metrics import bits_per_byte, read_metrics

REPO = Path(__file__).parents[2]
CONFIG = REPO / "trainer" / "configs" / "debug.toml"
BIN = Path(sys.executable).parent
COMPARED = ("step", "loss", "grad_norm", "lr", "skipped", "tokens", "bpb", "bytes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    script: Path, out: Path, tokens: Path, *args: str, crash: str | None = None
) -> subprocess.CompletedProcess[str]:
    # The launcher and DeepSpeed's op loader find python and ninja on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if crash:
        env["DSC_TEST_CRASH"] = crash
    command = [
        str(BIN / "deepspeed"),
        "--num_gpus",
        "2",
        "--master_port",
        str(_free_port()),
        str(script),
        "--config",
        str(CONFIG),
        "--set",
        f"data.dir={tokens}",
        "--set",
        f"run.out_dir={out}",
        *args,
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def killed(run: subprocess.CompletedProcess[str]) -> bool:
    """Whether a rank died of SIGKILL (the launcher then stops the others and fails)."""
    return run.returncode != 0 and "exits with return code = -9" in run.stdout + run.stderr


@dataclass(frozen=True)
class Runs:
    reference: Path
    resumed: Path
    tokens: Path
    after_checkpoint_crash: list[int]  # complete checkpoints after the first kill
    after_step_crash: list[int]  # ... after the second


def _steps(out: Path) -> list[int]:
    return [c.step for c in complete_checkpoints(out / "checkpoints")]


@pytest.fixture(scope="module")
def runs(token_corpus, tmp_path_factory) -> Runs:
    tokens = token_corpus.tokens_dir
    root = tmp_path_factory.mktemp("pretrain")
    pretrain, crash = REPO / "trainer" / "pretrain.py", Path(__file__).with_name("crash.py")
    reference = launch(pretrain, root / "reference", tokens)
    assert reference.returncode == 0, reference.stdout[-3000:] + reference.stderr[-3000:]
    out = root / "resumed"
    first = launch(crash, out, tokens, crash="checkpoint:4:1")
    assert killed(first)
    after_checkpoint_crash = _steps(out)
    assert (out / "checkpoints" / tag_for(4)).is_dir()  # the half-written one is there
    second = launch(crash, out, tokens, "--resume", crash="step:7:0")
    assert killed(second)
    after_step_crash = _steps(out)
    third = launch(pretrain, out, tokens, "--resume")
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    return Runs(root / "reference", out, tokens, after_checkpoint_crash, after_step_crash)


def _records(out: Path) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k in COMPARED or k == "kind"}
        for r in read_metrics(out / "metrics.jsonl")
    ]


def test_killed_and_resumed_run_logs_exactly_the_reference(runs):
    reference = _records(runs.reference)
    by_step = {(r["kind"], r["step"]): r for r in reference}
    assert [r["step"] for r in reference if r["kind"] == "train"] == list(range(1, 9))
    assert [r["step"] for r in reference if r["kind"] == "valid"] == [4, 8]
    resumed = _records(runs.resumed)
    # the crashed attempts re-ran steps: 1-4 (killed writing 4), 3-6 (from 2), 7-8 (from 6)
    assert [r["step"] for r in resumed if r["kind"] == "train"] == [1, 2, 3, 4, 3, 4, 5, 6, 7, 8]
    for record in resumed:
        assert record == by_step[(record["kind"], record["step"])]
    losses = [r["loss"] for r in reference if r["kind"] == "train"]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]


def test_interrupted_checkpoint_is_never_resumed_from(runs):
    # the kill while writing step 4 left step 2 as the newest complete checkpoint
    assert runs.after_checkpoint_crash == [2]
    # the resumed run rewrote 4, wrote 6 and kept the last two (checkpoint.keep = 2)
    assert runs.after_step_crash == [4, 6]
    assert _steps(runs.resumed) == [6, 8]
    leftovers = {p.name for p in (runs.resumed / "checkpoints").iterdir() if p.is_dir()}
    assert leftovers == {tag_for(6), tag_for(8)}


def test_checkpoint_marker_lists_every_rank_shard(runs, tmp_path):
    checkpoint = read_checkpoint(runs.resumed / "checkpoints" / tag_for(8))
    assert checkpoint is not None and checkpoint.marker["world_size"] == 2
    shards = [n for n in checkpoint.marker["files"] if n.endswith("optim_states.pt")]
    assert len(shards) == 2
    # a shard cut short after the marker was written makes the checkpoint incomplete
    copy = tmp_path / "checkpoints" / tag_for(8)
    copy.mkdir(parents=True)
    for name in checkpoint.marker["files"]:
        (copy / name).write_bytes((checkpoint.path / name).read_bytes())
    (copy / MARKER).write_bytes((checkpoint.path / MARKER).read_bytes())
    assert read_checkpoint(copy) is not None
    shard = copy / shards[1]
    shard.write_bytes(shard.read_bytes()[:-1])
    assert read_checkpoint(copy) is None


def test_validation_bits_per_byte_counts_the_label_bytes(runs):
    valid = [r for r in read_metrics(runs.reference / "metrics.jsonl") if r["kind"] == "valid"]
    # eval.windows = 8 windows of the held-out split, whichever rank scored them
    cfg = LoaderConfig(seq_len=64, micro_batch_size=8, seed=0, fim_rate=0.0)
    (batch,) = list(PackedLoader(runs.tokens, "valid", cfg, epochs=1))[:1]
    scored = batch.labels != -100
    assert valid[0]["tokens"] == int(scored.sum())
    assert valid[0]["bytes"] == int(batch.label_bytes.sum())
    # bits per byte count the text labels only (as the evals' bpb task), the loss every label
    text_nats = valid[0]["text_nats"]
    assert text_nats <= valid[0]["loss"] * valid[0]["tokens"] * (1 + 1e-9)
    assert valid[0]["bpb"] == pytest.approx(bits_per_byte(text_nats, valid[0]["bytes"]))


def test_export_loads_in_transformers_with_our_logits(runs, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export(runs.resumed / "checkpoints", tmp_path / "hf")
    hf = AutoModelForCausalLM.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    ids = tokenizer("def add(a, b):\n    return a + b\n", return_tensors="pt").input_ids
    assert int(ids[0, 0]) == tokenizer.bos_token_id
    ours = load_checkpoint(out)
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, ours(ids), atol=1e-5)
    with pytest.raises(FileExistsError):
        export(runs.resumed / "checkpoints", out)


def run_single(
    out: Path, tokens: Path, config: Path, *overrides: str, resume: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python trainer/pretrain.py`` as a world of one."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RANK", None)
    settings = (f"data.dir={tokens}", f"run.out_dir={out}", *overrides)
    sets = [arg for setting in settings for arg in ("--set", setting)]
    script = str(REPO / "trainer" / "pretrain.py")
    command = [sys.executable, script, "--config", str(config), *sets]
    command += ["--resume"] if resume else []
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_long_context_stage_continues_the_pretrained_weights(runs, tmp_path):
    out = tmp_path / "long"
    done = run_single(
        out,
        runs.tokens,
        REPO / "trainer" / "configs" / "long_context.toml",
        "model.size=tiny",
        "model.max_seq_len=512",
        "run.precision=fp32",
        "train.seq_len=128",  # twice the pretraining length
        "train.global_batch_size=4",
        "train.micro_batch_size=2",
        "train.steps=4",
        "schedule.warmup_steps=1",
        "optim.lr=1e-3",
        "checkpoint.every=4",
        "eval.every=4",
        "eval.windows=4",
        "log.every=1",
        f"checkpoint.init_from={runs.reference / 'checkpoints'}",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = read_metrics(out / "metrics.jsonl")
    train = [r for r in records if r["kind"] == "train"]
    # a new schedule and step count: weights only came from the checkpoint
    assert [r["step"] for r in train] == [1, 2, 3, 4] and train[0]["lr"] == 1e-3
    assert all(math.isfinite(r["loss"]) for r in records)
    fresh_start = read_metrics(runs.reference / "metrics.jsonl")[0]["loss"]
    assert train[0]["loss"] < fresh_start - 0.1  # it starts from the pretrained model
    config = read_checkpoint(out / "checkpoints" / tag_for(4)).marker["model_config"]
    assert config["rope_theta"] == 100000.0
    assert config["rope_scaling"] == {"type": "linear", "factor": 4.0}


def test_diverging_run_skips_non_finite_steps_then_stops(runs, tmp_path):
    out = tmp_path / "diverge"
    # lr 1e30: the first update sends the weights to ~1e27, every later loss is NaN
    done = run_single(
        out,
        runs.tokens,
        CONFIG,
        "optim.lr=1e30",
        "schedule.warmup_steps=0",
        "train.micro_batch_size=4",
        "checkpoint.every=1",
        "train.max_consecutive_skips=3",
    )
    assert done.returncode != 0
    assert "step 4: 3 consecutive steps with a non-finite loss" in done.stderr
    assert "last good checkpoint: " + str(out / "checkpoints" / tag_for(1)) in done.stderr
    records = read_metrics(out / "metrics.jsonl")
    assert [(r["step"], r["skipped"], r["skipped_total"]) for r in records] == [
        (1, False, 0),
        (2, True, 1),
        (3, True, 2),
        (4, True, 3),
    ]
    assert records[1]["loss"] is None  # NaN, written as null


def test_one_rank_sees_the_same_global_batches_as_two(runs, tmp_path):
    # Same global batch on 1 rank (gradient accumulation 4 instead of 2): the global data order
    # and the token-weighted loss do not depend on the split, so only float rounding differs.
    out = tmp_path / "one_rank"
    done = run_single(out, runs.tokens, CONFIG, "train.steps=4", "eval.every=0")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    one = [r["loss"] for r in read_metrics(out / "metrics.jsonl")]
    two = [
        r["loss"] for r in read_metrics(runs.reference / "metrics.jsonl") if r["kind"] == "train"
    ]
    assert one == pytest.approx(two[:4], rel=1e-5)


def test_a_checkpoint_of_two_ranks_resumes_exactly_on_one(runs, tmp_path):
    # The reference's step-6 checkpoint (2 ranks, ZeRO-2) resumed by a world of one: its
    # optimizer shards are converted to DeepSpeed's universal format, so the Adam moments, the
    # schedule and the global data cursor carry over and steps 7-8 log what the reference did.
    # (Restarting the moments from zero instead moves step 8's loss from 6.867 to 6.828.)
    out = tmp_path / "one_rank"
    shutil.copytree(runs.reference / "checkpoints" / tag_for(6), out / "checkpoints" / tag_for(6))
    done = run_single(out, runs.tokens, CONFIG, resume=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert read_checkpoint(out / "checkpoints" / UNIVERSAL / tag_for(6)) is not None
    reference = [r for r in _records(runs.reference) if r["step"] > 6]
    resumed = _records(out)
    assert [sorted(r) for r in resumed] == [sorted(r) for r in reference]
    for ours, theirs in zip(resumed, reference, strict=True):
        for key, value in theirs.items():
            assert ours[key] == (pytest.approx(value, rel=1e-5) if type(value) is float else value)
