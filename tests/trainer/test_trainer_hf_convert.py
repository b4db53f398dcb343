"""HF LlamaForCausalLM <-> our Transformer: identical logits and bitwise round trips."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file
from transformers import LlamaForCausalLM

from dsc_trainer.config import ModelConfig, named_config
from dsc_trainer.hf_convert import (
    config_from_hf,
    config_to_hf,
    load_checkpoint,
    read_hf_state_dict,
    save_checkpoint,
)
from dsc_trainer.model import Transformer

TOLERANCE = 1e-4  # fp32 on CPU


def random_tokens(batch: int = 2, seq: int = 40, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 128, (batch, seq), generator=torch.Generator().manual_seed(seed))


def max_logit_error(hf: LlamaForCausalLM, ours: Transformer) -> float:
    tokens = random_tokens()
    with torch.no_grad():
        return (hf(tokens).logits - ours(tokens)).abs().max().item()


@pytest.mark.parametrize("rope_factor", [None, 4.0])
@pytest.mark.parametrize(("n_kv_heads", "tie"), [(2, False), (4, False), (1, True)])
def test_hf_checkpoint_gives_hf_logits(hf_llama, tmp_path, rope_factor, n_kv_heads, tie):
    hf = hf_llama(rope_factor=rope_factor, n_kv_heads=n_kv_heads, tie=tie)
    hf.save_pretrained(tmp_path)
    ours = load_checkpoint(tmp_path)
    assert ours.config.rope_scaling == (rope_factor or 1.0)
    assert ours.config.n_kv_heads == n_kv_heads
    assert max_logit_error(hf, ours) < TOLERANCE


def released_style_config(hf: LlamaForCausalLM) -> dict[str, object]:
    """config.json the way the released DeepSeek-Coder models write it (legacy RoPE fields)."""
    c = hf.config
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "max_position_embeddings": c.max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_scaling": {"type": "linear", "factor": 4.0},
        "rope_theta": 100000,
        "tie_word_embeddings": False,
        "vocab_size": c.vocab_size,
        "torch_dtype": "float32",
    }


@pytest.mark.parametrize("weights", ["model.safetensors", "pytorch_model.bin"])
def test_released_layout_loads_in_both(hf_llama, tmp_path, weights):
    source = hf_llama(rope_factor=4.0)
    (tmp_path / "config.json").write_text(json.dumps(released_style_config(source)))
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if weights.endswith(".safetensors"):
        save_file(state, tmp_path / weights, metadata={"format": "pt"})
    else:
        torch.save(state, tmp_path / weights)
    ours = load_checkpoint(tmp_path)
    assert (ours.config.rope_theta, ours.config.rope_scaling) == (100000.0, 4.0)
    hf = LlamaForCausalLM.from_pretrained(tmp_path).eval()
    assert max_logit_error(hf, ours) < TOLERANCE


def test_hf_to_ours_to_hf_is_bitwise(hf_llama, tmp_path):
    hf = hf_llama(rope_factor=4.0)
    hf.save_pretrained(tmp_path / "hf")
    save_checkpoint(load_checkpoint(tmp_path / "hf"), tmp_path / "ours")
    original = read_hf_state_dict(tmp_path / "hf")
    written = read_hf_state_dict(tmp_path / "ours")
    assert written.keys() == original.keys()
    for name, tensor in original.items():
        assert written[name].dtype == tensor.dtype
        assert torch.equal(written[name], tensor), name


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_ours_to_hf_to_ours_is_bitwise(tmp_path, dtype):
    config = ModelConfig(
        vocab_size=96, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, rope_scaling=4.0
    )
    torch.manual_seed(0)
    model = Transformer(config).to(dtype)
    save_checkpoint(model, tmp_path / "ckpt")
    loaded = load_checkpoint(tmp_path / "ckpt", dtype=dtype)
    assert loaded.config == config
    assert all(p.requires_grad and not p.is_meta for p in loaded.parameters())  # trainable
    expected = model.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, expected[name]), name


def test_hf_reads_our_checkpoint(tmp_path):
    config = ModelConfig(
        vocab_size=128, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=160,
        rope_theta=100000.0, rope_scaling=4.0,
    )  # fmt: skip
    torch.manual_seed(0)
    ours = Transformer(config).eval()
    save_checkpoint(ours, tmp_path / "ckpt")
    hf = LlamaForCausalLM.from_pretrained(tmp_path / "ckpt").eval()
    assert max_logit_error(hf, ours) < TOLERANCE


def test_config_round_trip():
    config = ModelConfig(n_kv_heads=4, rope_theta=100000.0, rope_scaling=4.0, tie_embeddings=True)
    assert config_from_hf(config_to_hf(config, torch.bfloat16)) == config


def test_save_refuses_to_overwrite(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(FileExistsError, match="ckpt"):
        save_checkpoint(Transformer(named_config("tiny")), tmp_path / "ckpt")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": None}, "missing field 'hidden_size'"),
        ({"rope_scaling": {"type": "dynamic", "factor": 2.0}}, "only linear"),
        ({"hidden_act": "gelu"}, "'hidden_act'"),
        ({"architectures": ["MistralForCausalLM"], "model_type": "mistral"}, "architectures"),
    ],
)
def test_bad_config_names_file_and_field(change, message):
    hf = config_to_hf(ModelConfig(), torch.float32)
    hf.update(change)
    hf = {k: v for k, v in hf.items() if v is not None}
    with pytest.raises(ValueError, match=message) as error:
        config_from_hf(hf, source="ckpt/config.json")
    assert "ckpt/config.json" in str(error.value)


def test_missing_weights_are_reported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(config_to_hf(ModelConfig(), torch.float32)))
    with pytest.raises(FileNotFoundError, match=r"no model\.safetensors"):
        load_checkpoint(tmp_path)
