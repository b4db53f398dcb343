"""Model configuration: the architecture of a Llama-style decoder and the paper's named sizes.

Sizes come from the DeepSeek-Coder paper (Table 2); the cost formulas from DeepSeek LLM.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

AttentionBackendName = Literal["auto", "flash", "sdpa"]
ATTENTION_BACKENDS: tuple[str, ...] = ("auto", "flash", "sdpa")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the decoder plus two run-time switches (attention backend, checkpointing).

    The run-time switches are not part of the checkpoint format: ``hf_convert`` neither writes
    nor reads them.
    """

    vocab_size: int = 32256  # 32,000 BPE tokens plus the released tokenizer's added tokens
    d_model: int = 2048  # hidden size
    n_layers: int = 24
    n_heads: int = 16  # query heads
    n_kv_heads: int = 16  # key/value heads; fewer than n_heads means grouped-query attention
    d_ff: int = 5504  # SwiGLU intermediate size
    max_seq_len: int = 16384  # context the model is meant for (RoPE itself has no hard limit)
    rope_theta: float = 10000.0  # RoPE base
    rope_scaling: float = 1.0  # linear position interpolation factor (positions are divided by it)
    norm_eps: float = 1e-6
    tie_embeddings: bool = False  # share the token embedding with the output head
    init_std: float = 0.02
    attention_backend: AttentionBackendName = "auto"  # run time; env DSC_ATTENTION_BACKEND wins
    activation_checkpointing: bool = False  # run time; recompute each block in backward

    def __post_init__(self) -> None:
        positive = ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff")
        for name in (*positive, "max_seq_len"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ModelConfig.{name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_heads != 0:
            raise ValueError(
                f"ModelConfig.d_model ({self.d_model}) is not a multiple of n_heads {self.n_heads}"
            )
        if self.n_heads % self.n_kv_heads != 0:
            raise ValueError(
                f"ModelConfig.n_kv_heads ({self.n_kv_heads}) must divide n_heads ({self.n_heads})"
            )
        if self.head_dim % 2 != 0:
            raise ValueError(f"ModelConfig head_dim ({self.head_dim}) must be even for RoPE")
        for name in ("rope_theta", "rope_scaling", "norm_eps", "init_std"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ModelConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.attention_backend not in ATTENTION_BACKENDS:
            raise ValueError(
                f"ModelConfig.attention_backend must be one of {ATTENTION_BACKENDS}, "
                f"got {self.attention_backend!r}"
            )

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def replace(self, **changes: object) -> ModelConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def long_context(self) -> ModelConfig:
        """The paper's long-context stage: RoPE base 10,000 -> 100,000, linear factor 1 -> 4."""
        return self.replace(rope_theta=100000.0, rope_scaling=4.0)

    # --- sizes and costs -------------------------------------------------------------------

    def params_per_layer(self) -> int:
        kv_dim = self.n_kv_heads * self.head_dim
        attention = 2 * self.d_model * self.d_model + 2 * self.d_model * kv_dim  # wq, wo, wk, wv
        mlp = 3 * self.d_model * self.d_ff  # w1 (gate), w3 (up), w2 (down)
        norms = 2 * self.d_model
        return attention + mlp + norms

    def embedding_params(self) -> int:
        """Token embedding plus the output head (counted once when they are tied)."""
        heads = 1 if self.tie_embeddings else 2
        return heads * self.vocab_size * self.d_model

    def non_embedding_params(self) -> int:
        return self.n_layers * self.params_per_layer() + self.d_model  # + final norm

    def num_params(self) -> int:
        return self.non_embedding_params() + self.embedding_params()

    def flops_per_token_m(self, seq_len: int) -> int:
        """DeepSeek LLM's non-embedding FLOPs/token ``M = 72 n d^2 + 12 n d l`` (training, eq. 2).

        Unlike 6N it counts attention's cost over the context: QK^T and AV are 2 d l
        multiply-adds a token a layer, x3 for forward + backward, with no causal halving (the
        torchtitan convention). 72 d^2 assumes an MHA block with a 4x MLP (12 d^2 parameters a
        layer).
        """
        return 72 * self.n_layers * self.d_model**2 + 12 * self.n_layers * self.d_model * seq_len

    def flops_per_token_6n(self, *, include_embeddings: bool = False) -> int:
        """The classic ``6N`` training FLOPs/token, from the exact parameter count."""
        n = self.num_params() if include_embeddings else self.non_embedding_params()
        return 6 * n


# The paper's sizes (DeepSeek-Coder Table 2) with pretraining RoPE; `.long_context()` gives the
# released checkpoints' RoPE (base 100,000, factor 4). Tiny ones are for tests and benchmarks.
SIZES: dict[str, ModelConfig] = {
    "1.3B": ModelConfig(d_model=2048, n_layers=24, n_heads=16, n_kv_heads=16, d_ff=5504),
    "6.7B": ModelConfig(d_model=4096, n_layers=32, n_heads=32, n_kv_heads=32, d_ff=11008),
    "33B": ModelConfig(d_model=7168, n_layers=62, n_heads=56, n_kv_heads=8, d_ff=19200),
    "50M": ModelConfig(d_model=512, n_layers=6, n_heads=8, n_kv_heads=8, d_ff=1376),
    "tiny": ModelConfig(
        vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=160, max_seq_len=512
    ),
}


def named_config(name: str) -> ModelConfig:
    """The named size, with a clear error for an unknown name."""
    try:
        return SIZES[name]
    except KeyError:
        raise KeyError(f"unknown model size {name!r}; known sizes: {sorted(SIZES)}") from None
