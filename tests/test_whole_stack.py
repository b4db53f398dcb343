"""The path a user takes, in miniature, as the README runs it: corpus -> tokenizer -> token
shards -> ``deepspeed --num_gpus 2 trainer/pretrain.py`` (CPU, gloo, ZeRO-2) -> export ->
``python -m dsc_evals run`` (bits per byte and one HumanEval problem) on the exported model.

The first three steps are the session's ``token_corpus`` (``build_corpus``,
``train_tokenizer`` and ``tokenize_corpus`` through their ``main``, on real standard-library
code); the rest are the commands themselves.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def command(*args: str) -> subprocess.CompletedProcess[str]:
    # The launcher and DeepSpeed's op loader find python on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_corpus_becomes_a_model_that_transformers_and_the_evals_load(
    token_corpus, tmp_path: Path, benchmarks_dir: Path
) -> None:
    run_dir, model_dir, eval_dir = tmp_path / "run", tmp_path / "model", tmp_path / "eval"
    command(
        str(BIN / "deepspeed"), "--num_gpus", "2", "--master_port", str(free_port()),
        "trainer/pretrain.py", "--config", "trainer/configs/debug.toml",
        "--set", f"data.dir={token_corpus.tokens_dir}", "--set", f"run.out_dir={run_dir}",
    )  # fmt: skip
    train = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in train if r["kind"] == "train"]
    assert len(losses) == 8 and losses[-1] < losses[0]

    command(
        sys.executable, "-m", "dsc_trainer.export", str(run_dir / "checkpoints"), str(model_dir)
    )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(model_dir)
    assert AutoTokenizer.from_pretrained(model_dir).is_fast

    held_out = Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py"  # not in the corpus
    command(
        sys.executable, "-m", "dsc_evals", "run", "--model", str(model_dir),
        "--tasks", "bpb,humaneval", "--limit", "1", "--max-new-tokens", "16",
        "--bpb-files", str(held_out), "--out", str(eval_dir),
    )  # fmt: skip
    summary = json.loads((eval_dir / "summary.json").read_text())
    bpb = summary["tasks"]["bpb"]
    assert bpb["bytes"] == len(held_out.read_bytes()) and 0 < bpb["bits_per_byte"] < 16
    humaneval = summary["tasks"]["humaneval"]
    assert humaneval["problems"] == 1 and 0.0 <= humaneval["pass@1"] <= 1.0
