"""Run settings: the shipped TOML configs, dotted overrides, errors that name the key, the
DeepSpeed JSON derived from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsc_trainer.distributed import deepspeed_config
from dsc_trainer.run_config import PretrainConfig, SftConfig
from dsc_trainer.scaling import scaling_plan
from dsc_trainer.settings import ConfigError, load, to_dict

CONFIGS = Path(__file__).parents[2] / "trainer" / "configs"
PAPER = {  # DeepSeek-Coder §3.3: batch size (sequences) and peak learning rate
    "1.3b": ("1.3B", 1024, 5.3e-4),
    "6.7b": ("6.7B", 2304, 4.2e-4),
    "33b": ("33B", 3840, 3.5e-4),
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_configs_carry_the_paper_batch_and_lr(name):
    cfg = load(PretrainConfig, CONFIGS / f"{name}.toml")
    size, batch, lr = PAPER[name]
    assert (cfg.model.size, cfg.train.global_batch_size, cfg.optim.lr) == (size, batch, lr)
    assert (cfg.optim.beta1, cfg.optim.beta2, cfg.optim.weight_decay) == (0.9, 0.95, 0.1)
    assert cfg.optim.grad_clip == 1.0 and cfg.run.precision == "bf16"
    assert (cfg.schedule.kind, cfg.schedule.warmup_steps) == ("multistep", 2000)
    # ~2T tokens in all
    assert abs(cfg.train.steps * cfg.train.tokens_per_step - 2e12) < cfg.train.tokens_per_step
    # on 8 H800 nodes (64 ranks) the global batch divides evenly
    ds = deepspeed_config(cfg, world_size=64)
    assert ds["train_batch_size"] == batch
    assert ds["train_micro_batch_size_per_gpu"] * ds["gradient_accumulation_steps"] * 64 == batch
    assert ds["bf16"] == {"enabled": True}
    assert ds["gradient_clipping"] == 1.0


def test_long_context_and_sft_configs():
    long = load(PretrainConfig, CONFIGS / "long_context.toml")
    model = long.model.build(32022)
    assert (model.rope_theta, model.rope_scaling, model.vocab_size) == (100000.0, 4.0, 32128)
    assert (long.train.seq_len, long.train.steps, long.train.global_batch_size) == (
        16384,
        1000,
        512,
    )
    assert long.checkpoint.init_from is not None
    sft = load(SftConfig, CONFIGS / "sft.toml")
    assert (sft.schedule.kind, sft.schedule.warmup_steps, sft.optim.lr) == ("cosine", 100, 1e-5)
    assert sft.train.tokens_per_step == 1024 * 4096  # 4M tokens


def test_debug_config_and_overrides():
    cfg = load(
        PretrainConfig,
        CONFIGS / "debug.toml",
        ["train.steps=3", "data.dir=/tmp/tokens", "schedule.milestones=[0.5, 0.75]"],
    )
    assert cfg.train.steps == 3 and cfg.data.dir == Path("/tmp/tokens")
    assert cfg.schedule.milestones == (0.5, 0.75)
    assert cfg.grad_accum(2) == 2  # 8 sequences = 2 per pass x 2 ranks x 2
    assert to_dict(cfg)["data"]["dir"] == "/tmp/tokens"


def test_vocab_is_rounded_up_to_128_unless_fixed():
    cfg = load(PretrainConfig, None, ["model.size=tiny"])
    assert cfg.model.build(300).vocab_size == 384
    assert cfg.model.build(256).vocab_size == 256
    fixed = load(PretrainConfig, None, ["model.vocab_size=320"])
    assert fixed.model.build(300).vocab_size == 320
    with pytest.raises(ConfigError, match=r"model\.vocab_size"):
        fixed.model.build(400)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.steps=0", "train.steps"),
        ("train.steps=ten", "train.steps"),
        ("train.stpes=10", "train.stpes"),
        ("optim.beta2=1.5", "optim.beta2"),
        ("run.precision=fp8", "run.precision"),
        ("parallel.zero_stage=0", "parallel.zero_stage"),
        ("model.size=7B", "model.size"),
        ("schedule.factors=[0.5]", "schedule.factors"),
        ("schedule.warmup_steps=5000", "schedule.warmup_steps"),
        ("train.micro_batch_size=3", "train.global_batch_size"),
        ("log=3", "log"),
        ("checkpoint.keep=true", "checkpoint.keep"),
    ],
)
def test_bad_settings_name_the_key(override, key):
    with pytest.raises(ConfigError) as error:
        load(PretrainConfig, CONFIGS / "debug.toml", [override])
    assert error.value.key == key
    assert str(error.value).startswith(f"{key}: ")


def test_world_size_that_does_not_divide_the_batch_is_refused():
    cfg = load(PretrainConfig, CONFIGS / "debug.toml")
    with pytest.raises(ConfigError, match=r"train\.global_batch_size.*2 x 3"):
        cfg.grad_accum(3)
    with pytest.raises(ConfigError, match=r"eval\.windows"):
        cfg.eval_batches(8)


def test_sft_config_needs_training_files():
    with pytest.raises(ConfigError, match=r"data\.train"):
        load(SftConfig, CONFIGS / "sft.toml", ["data.train=[]"])


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[train\nsteps = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load(PretrainConfig, path)


def test_compute_budget_fills_in_the_batch_from_the_scaling_law():
    command = [
        sys.executable,
        str(CONFIGS.parents[1] / "trainer" / "pretrain.py"),
        "--config",
        str(CONFIGS / "debug.toml"),
        "--compute-budget",
        "1e17",
        "--print-deepspeed-config",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=True)
    plan = scaling_plan(1e17, seq_len=64)
    first, _, rest = done.stdout.partition("\n")
    assert first == plan.describe()
    # B_opt = 0.2920 x 1e17^0.3271 = 1.062e5 tokens = 1659.2 sequences of 64 -> 1660 (2 x 1 x 830)
    assert json.loads(rest)["train_batch_size"] == plan.batch_sequences(64, 2) == 1660
