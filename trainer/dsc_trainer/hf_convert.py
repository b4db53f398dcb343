"""Hugging Face ``LlamaForCausalLM`` checkpoints <-> our ``Transformer``.

A checkpoint is a directory with ``config.json`` and the weights, as the released DeepSeek-Coder
models ship: ``model.safetensors`` (or shards listed in ``model.safetensors.index.json``), or the
older ``pytorch_model.bin`` (or its shards). It is also *our* checkpoint format: ``save_checkpoint``
writes one ``model.safetensors`` plus a config.json in the released (legacy) form
``rope_theta`` + ``rope_scaling {type: linear, factor}``, which HF's ``from_pretrained`` reads.
Both directions only rename tensors, so a round trip is bitwise exact.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from dsc_trainer.config import ModelConfig
from dsc_trainer.model import Transformer

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

# (HF name, our name); "{i}" is the layer index.
_NAME_PAIRS: tuple[tuple[str, str], ...] = (
    ("model.embed_tokens.weight", "tok_embeddings.weight"),
    ("model.norm.weight", "norm.weight"),
    ("lm_head.weight", "output.weight"),
    ("model.layers.{i}.input_layernorm.weight", "layers.{i}.attention_norm.weight"),
    ("model.layers.{i}.self_attn.q_proj.weight", "layers.{i}.attention.wq.weight"),
    ("model.layers.{i}.self_attn.k_proj.weight", "layers.{i}.attention.wk.weight"),
    ("model.layers.{i}.self_attn.v_proj.weight", "layers.{i}.attention.wv.weight"),
    ("model.layers.{i}.self_attn.o_proj.weight", "layers.{i}.attention.wo.weight"),
    ("model.layers.{i}.post_attention_layernorm.weight", "layers.{i}.ffn_norm.weight"),
    ("model.layers.{i}.mlp.gate_proj.weight", "layers.{i}.feed_forward.w1.weight"),
    ("model.layers.{i}.mlp.up_proj.weight", "layers.{i}.feed_forward.w3.weight"),
    ("model.layers.{i}.mlp.down_proj.weight", "layers.{i}.feed_forward.w2.weight"),
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.escape(template).replace(r"\{i\}", r"(\d+)") + "$")


_HF_TO_OURS = [(_pattern(hf), ours) for hf, ours in _NAME_PAIRS]
_OURS_TO_HF = [(_pattern(ours), hf) for hf, ours in _NAME_PAIRS]


def _rename(name: str, table: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, template in table:
        match = pattern.match(name)
        if match:
            return template.replace("{i}", match.group(1)) if match.groups() else template
    raise KeyError(f"tensor {name!r} has no counterpart in the other format")


def hf_to_ours(state_dict: dict[str, Tensor], config: ModelConfig) -> dict[str, Tensor]:
    """Rename an HF Llama state dict to ours (the same tensors, no copies).

    Older HF versions saved RoPE's ``rotary_emb.inv_freq``; it follows from the config, so it is
    dropped.
    """
    converted = {
        _rename(name, _HF_TO_OURS): t
        for name, t in state_dict.items()
        if not name.endswith("rotary_emb.inv_freq")
    }
    if config.tie_embeddings:
        converted.pop("output.weight", None)  # a tied head reads the embedding
    return converted


def ours_to_hf(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename our state dict to HF Llama names (the same tensors, no copies)."""
    return {_rename(name, _OURS_TO_HF): t for name, t in state_dict.items()}


# --- config.json -----------------------------------------------------------------------------


def _require(hf: dict[str, Any], key: str, source: str) -> Any:
    if key not in hf:
        raise ValueError(f"{source}: missing field {key!r}")
    return hf[key]


def _rope_from_hf(hf: dict[str, Any], source: str) -> tuple[float, float]:
    """(theta, linear factor) from the legacy rope_theta/rope_scaling or HF v5 rope_parameters."""
    params = hf.get("rope_parameters") or {}
    scaling = hf.get("rope_scaling") or params
    theta = float(hf.get("rope_theta", params.get("rope_theta", 10000.0)))
    kind = scaling.get("type", scaling.get("rope_type", "default"))
    if kind == "default":
        return theta, 1.0
    if kind != "linear":
        raise ValueError(
            f"{source}: field 'rope_scaling' has type {kind!r}; only linear is supported"
        )
    return theta, float(_require(scaling, "factor", f"{source} rope_scaling"))


def config_from_hf(hf: dict[str, Any], source: str = CONFIG_FILE) -> ModelConfig:
    """Our ModelConfig from an HF Llama config.json dict; errors name ``source`` and the field."""
    architectures = hf.get("architectures") or ["LlamaForCausalLM"]
    if "LlamaForCausalLM" not in architectures and hf.get("model_type") != "llama":
        raise ValueError(
            f"{source}: field 'architectures' is {architectures}, not LlamaForCausalLM"
        )
    for key, expected in (("hidden_act", "silu"), ("attention_bias", False), ("mlp_bias", False)):
        if hf.get(key, expected) != expected:
            raise ValueError(
                f"{source}: field {key!r} is {hf[key]!r}; only {expected!r} is supported"
            )
    d_model = int(_require(hf, "hidden_size", source))
    n_heads = int(_require(hf, "num_attention_heads", source))
    head_dim = hf.get("head_dim") or d_model // n_heads
    if head_dim * n_heads != d_model:
        raise ValueError(f"{source}: field 'head_dim' {head_dim} x {n_heads} heads != hidden_size")
    theta, factor = _rope_from_hf(hf, source)
    return ModelConfig(
        vocab_size=int(_require(hf, "vocab_size", source)),
        d_model=d_model,
        n_layers=int(_require(hf, "num_hidden_layers", source)),
        n_heads=n_heads,
        n_kv_heads=int(hf.get("num_key_value_heads") or n_heads),
        d_ff=int(_require(hf, "intermediate_size", source)),
        max_seq_len=int(hf.get("max_position_embeddings", ModelConfig.max_seq_len)),
        rope_theta=theta,
        rope_scaling=factor,
        norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        init_std=float(hf.get("initializer_range", 0.02)),
    )


def config_to_hf(config: ModelConfig, dtype: torch.dtype) -> dict[str, Any]:
    """The released DeepSeek-Coder config.json layout for ``config``."""
    rope_scaling = (
        None if config.rope_scaling == 1.0 else {"type": "linear", "factor": config.rope_scaling}
    )
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "vocab_size": config.vocab_size,
        "hidden_size": config.d_model,
        "intermediate_size": config.d_ff,
        "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads,
        "num_key_value_heads": config.n_kv_heads,
        "max_position_embeddings": config.max_seq_len,
        "rms_norm_eps": config.norm_eps,
        "rope_theta": config.rope_theta,
        "rope_scaling": rope_scaling,
        "tie_word_embeddings": config.tie_embeddings,
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": config.init_std,
        "torch_dtype": str(dtype).removeprefix("torch."),
    }


# --- weights on disk -------------------------------------------------------------------------


def _weight_files(path: Path) -> list[Path]:
    """The weight files of a checkpoint directory, safetensors preferred."""
    for single, index in (
        ("model.safetensors", "model.safetensors.index.json"),
        ("pytorch_model.bin", "pytorch_model.bin.index.json"),
    ):
        if (path / single).is_file():
            return [path / single]
        if (path / index).is_file():
            weight_map = _require(json.loads((path / index).read_text()), "weight_map", str(index))
            return [path / name for name in sorted(set(weight_map.values()))]
    raise FileNotFoundError(f"{path}: no model.safetensors, pytorch_model.bin or shard index")


def read_hf_state_dict(path: str | Path) -> dict[str, Tensor]:
    """All tensors of an HF checkpoint directory, by HF name, on the CPU."""
    state: dict[str, Tensor] = {}
    for file in _weight_files(Path(path)):
        if file.suffix == ".safetensors":
            state.update(load_file(file))
        else:
            state.update(torch.load(file, map_location="cpu", weights_only=True, mmap=True))
    return state


def read_config(path: str | Path) -> ModelConfig:
    config_path = Path(path) / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path}: checkpoint has no {CONFIG_FILE}")
    return config_from_hf(json.loads(config_path.read_text()), source=str(config_path))


def load_checkpoint(
    path: str | Path, device: str = "cpu", dtype: torch.dtype = torch.float32
) -> Transformer:
    """A Transformer in eval mode with the weights of an HF-format checkpoint directory."""
    config = read_config(path)
    state = {
        name: t.to(device=device, dtype=dtype)
        for name, t in hf_to_ours(read_hf_state_dict(path), config).items()
    }
    with torch.device("meta"):
        model = Transformer(config)  # no memory, no init: the loaded tensors become its weights
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"{path}: checkpoint tensors missing {missing}, unexpected {unexpected}")
    return model.eval()


def save_checkpoint(model: Transformer, path: str | Path) -> None:
    """Write ``model`` as an HF Llama checkpoint directory (atomically: temp dir + rename)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: refusing to overwrite an existing checkpoint")
    state = {name: t.detach().contiguous().cpu() for name, t in model.state_dict().items()}
    dtype = next(iter(state.values())).dtype
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        save_file(ours_to_hf(state), tmp / WEIGHTS_FILE, metadata={"format": "pt"})
        config_json = json.dumps(config_to_hf(model.config, dtype), indent=2) + "\n"
        (tmp / CONFIG_FILE).write_text(config_json)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
