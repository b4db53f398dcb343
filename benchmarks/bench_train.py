"""Training throughput of ``trainer/pretrain.py``.

CPU (default): tokens/s of ``python trainer/pretrain.py`` (DeepSpeed ZeRO-2, one rank, fp32,
per-document attention) against Hugging Face ``Trainer`` on ``LlamaForCausalLM`` of the same
size, the same packed windows of the same token shards, the same batch and the same AdamW
settings, measured in the same run; prints ours / HF (target >= 1.0x). HF gets plain causal
attention (it has no per-document mask without flash-attn), so it does a little less work.
Without ``--data`` a small corpus of this machine's standard library is built and tokenised
first (``build_corpus`` -> ``train_tokenizer`` -> ``tokenize_corpus``).

GPU (``--gpu``, with ``deepspeed`` on PATH): MFU of the 1.3B config at 4K and 16K tokens a
sequence on all local GPUs, bf16, from the trainer's own log (M FLOPs per token, dense bf16
peak of the device; dsc_trainer.metrics). Target >= 50 %; the best public Llama trainers report
33-47 %. Not runnable on the CPU machines this project is developed on.

    python benchmarks/bench_train.py [--data TOKENS_DIR] [--size 50M --seq 256 --steps 12]
    python benchmarks/bench_train.py --gpu --data TOKENS_DIR [--num-gpus 8]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
PRETRAIN = REPO / "trainer" / "pretrain.py"
BIN = Path(sys.executable).parent
CORPUS_PACKAGES = ("json", "email", "http", "urllib", "wsgiref", "xmlrpc", "asyncio", "unittest")


def build_tokens(root: Path, benchmarks_dir: Path) -> Path:
    """A tokenised corpus of a few standard-library packages, as a user makes one."""
    from dsc import build_corpus, tokenize_corpus, train_tokenizer

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in CORPUS_PACKAGES:
        shutil.copytree(
            stdlib / name, root / "repos" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    config = root / "corpus.toml"
    config.write_text(f'[decontaminate]\nbenchmarks_dir = "{benchmarks_dir}"\n')
    corpus, tokenizer, tokens = root / "corpus", root / "tokenizer", root / "tokens"
    build_corpus.main(
        ["--input", str(root / "repos"), "--config", str(config), "--out", str(corpus)]
    )
    train_tokenizer.main(["--corpus", str(corpus), "--out", str(tokenizer), "--vocab-size", "8000"])
    tokenize_corpus.main(
        ["--corpus", str(corpus), "--tokenizer", str(tokenizer), "--out", str(tokens)]
    )
    return tokens


def median_after_warmup(values: list[float], warmup: int) -> float:
    return statistics.median(values[warmup:])


def run_ours(args: argparse.Namespace, tokens: Path, out: Path) -> float:
    """Median tokens/s of pretrain.py as a world of one (whole steps after the first two)."""
    from dsc_trainer.metrics import read_metrics

    settings = [
        f"data.dir={tokens}",
        f"run.out_dir={out}",
        f"model.size={args.size}",
        f"train.seq_len={args.seq}",
        f"train.micro_batch_size={args.micro}",
        f"train.global_batch_size={args.micro * args.accum}",
        f"train.steps={args.steps}",
        "checkpoint.every=1000000",  # only the final one
        "eval.every=0",
        "log.every=1",
        "data.fim_rate=0.0",
    ]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RANK", None)
    env["OMP_NUM_THREADS"] = str(args.threads)
    command = [sys.executable, str(PRETRAIN), "--config", str(REPO / "trainer/configs/debug.toml")]
    for setting in settings:
        command += ["--set", setting]
    subprocess.run(command, check=True, env=env, cwd=REPO)
    records = [r for r in read_metrics(out / "metrics.jsonl") if r["kind"] == "train"]
    return median_after_warmup([r["tokens_per_s"] for r in records], 2)


def run_hf(args: argparse.Namespace, tokens: Path, out: Path) -> float:
    """Median tokens/s of HF Trainer on the same model size, windows and batch (whole steps
    after the first two; its windows are made beforehand and held in memory)."""
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from dsc_trainer.hf_convert import config_to_hf
    from dsc_trainer.loader import LoaderConfig, PackedLoader, TokenData
    from dsc_trainer.run_config import ModelSection

    torch.set_num_threads(args.threads)
    config = ModelSection(size=args.size).build(TokenData(tokens, "train").vocab_size)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**config_to_hf(config, torch.float32)))
    loader_cfg = LoaderConfig(seq_len=args.seq, micro_batch_size=1, seed=0, fim_rate=0.0)
    windows = []
    n_windows = args.steps * args.micro * args.accum
    for batch in itertools.islice(PackedLoader(tokens, "train", loader_cfg), n_windows):
        # HF shifts labels itself: label t of its input is our label t - 1
        shifted = torch.cat((torch.full((1, 1), -100), batch.labels[:, :-1]), dim=1)
        windows.append({"input_ids": batch.tokens[0], "labels": shifted[0]})

    class StepTimer(TrainerCallback):
        """Whole steps, end to end, as pretrain.py times its own: data fetch included."""

        def __init__(self) -> None:
            self.seconds: list[float] = []

        def on_train_begin(self, *_: object, **__: object) -> None:
            self.last = time.perf_counter()

        def on_step_end(self, *_: object, **__: object) -> None:
            now = time.perf_counter()
            self.seconds.append(now - self.last)
            self.last = now

    timer = StepTimer()
    training = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=args.micro,
        gradient_accumulation_steps=args.accum,
        max_steps=args.steps,
        learning_rate=3e-3,
        adam_beta1=0.9,
        adam_beta2=0.95,
        weight_decay=0.1,
        max_grad_norm=1.0,
        lr_scheduler_type="constant",
        logging_steps=1000,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
        seed=0,
        disable_tqdm=True,
    )
    Trainer(model=model, args=training, train_dataset=windows, callbacks=[timer]).train()
    tokens_per_step = args.micro * args.accum * args.seq
    return median_after_warmup([tokens_per_step / s for s in timer.seconds], 2)


def bench_cpu(args: argparse.Namespace) -> None:
    """Rounds in turns (the order flips each round), so load on the machine hits both alike;
    each contestant's figure is its best round's median step rate."""
    rates: dict[str, list[float]] = {"pretrain.py": [], "HF Trainer": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tokens = args.data or build_tokens(root, args.benchmarks_dir)
        for round_ in range(args.rounds):
            contestants = [("pretrain.py", run_ours), ("HF Trainer", run_hf)]
            for name, run in contestants if round_ % 2 == 0 else contestants[::-1]:
                out = root / f"{name.split()[0]}-{round_}"
                rates[name].append(run(args, tokens, out))
                shutil.rmtree(out, ignore_errors=True)
    shape = f"{args.micro} x {args.accum} x {args.seq} tokens a step"
    print(f"model {args.size}, {shape}, {args.threads} threads, {args.rounds} rounds in turns")
    # both contestants run torch's CPU kernels, so torch's dispatch level is the SIMD path
    print(f"torch CPU kernels: {torch.backends.cpu.get_cpu_capability()}")
    for name, values in rates.items():
        each = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name + ':':14} {max(values):10.1f} tokens/s  (rounds: {each})")
    ratio = max(rates["pretrain.py"]) / max(rates["HF Trainer"])
    print(f"ours / HF:     {ratio:10.2f}x  (target >= 1.0x)")


def bench_gpu(args: argparse.Namespace) -> None:
    # GPU only: cannot be exercised on the CPU machines this project is developed on.
    from dsc_trainer.metrics import read_metrics

    if args.data is None:
        raise SystemExit("--gpu needs --data: token shards with enough 16K windows")
    # 16K: the long-context stage's model settings (RoPE, recomputed activations), one sequence
    long = ["model.rope_theta=100000.0", "model.rope_scaling=4.0", "model.max_seq_len=16384"]
    cases = {4096: (4, []), 16384: (1, [*long, "model.activation_checkpointing=true"])}
    for seq, (micro, extra) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            settings = [
                f"data.dir={args.data}",
                f"run.out_dir={out}",
                f"train.seq_len={seq}",
                f"train.micro_batch_size={micro}",
                f"train.global_batch_size={micro * args.num_gpus}",
                f"train.steps={args.steps}",
                "schedule.warmup_steps=1",
                "eval.every=0",
                "log.every=1",
                "checkpoint.every=1000000",
                *extra,
            ]
            command = [str(BIN / "deepspeed"), "--num_gpus", str(args.num_gpus), str(PRETRAIN)]
            command += ["--config", str(REPO / "trainer" / "configs" / "1.3b.toml")]
            for setting in settings:
                command += ["--set", setting]
            subprocess.run(command, check=True, cwd=REPO)
            records = [r for r in read_metrics(out / "metrics.jsonl") if r["kind"] == "train"]
            mfu = median_after_warmup([r["mfu"] for r in records], 3)
            rate = median_after_warmup([r["tokens_per_s"] for r in records], 3)
            print(
                f"1.3B at {seq} tokens: {rate / args.num_gpus:,.0f} tokens/s/GPU, MFU {mfu:.1%} (M)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--data", type=Path, help="token shards (default: build a small corpus)")
    parser.add_argument(
        "--benchmarks-dir", type=Path, default=REPO.parent / "shared" / "benchmarks"
    )
    parser.add_argument("--size", default="50M")
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--micro", type=int, default=4)
    parser.add_argument("--accum", type=int, default=2)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--num-gpus", type=int, default=max(1, torch.cuda.device_count()))
    args = parser.parse_args()
    (bench_gpu if args.gpu else bench_cpu)(args)


if __name__ == "__main__":
    main()
