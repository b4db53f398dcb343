"""A Llama-style decoder-only transformer (DeepSeek-Coder's architecture) in one readable file.

Token embedding -> n_layers x [pre-norm attention (RoPE, GQA) + pre-norm SwiGLU MLP] -> final
RMSNorm -> output head. The model knows nothing of parallelism or compilation; those wrap it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from dsc_trainer.attention import (
    AttentionContext,
    attend,
    cached_context,
    document_positions,
    packed_context,
    resolve_backend,
)
from dsc_trainer.config import ModelConfig
from dsc_trainer.kv_cache import KVCache
from dsc_trainer.rope import apply_rope, rope_tables


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        # Normalise in float32 (as HF Llama does) so bf16 activations keep their precision.
        normed = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).type_as(x)
        return self.weight * normed


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.n_kv_heads = config.n_kv_heads
        self.head_dim = config.head_dim
        kv_dim = config.n_kv_heads * config.head_dim
        self.wq = nn.Linear(config.d_model, config.d_model, bias=False)
        self.wk = nn.Linear(config.d_model, kv_dim, bias=False)
        self.wv = nn.Linear(config.d_model, kv_dim, bias=False)
        self.wo = nn.Linear(config.d_model, config.d_model, bias=False)

    def forward(
        self,
        x: Tensor,
        cos: Tensor,
        sin: Tensor,
        ctx: AttentionContext,
        cache: KVCache | None,
        layer: int,
    ) -> Tensor:
        batch, seq, _ = x.shape
        q = self.wq(x).view(batch, seq, self.n_heads, self.head_dim)
        k = self.wk(x).view(batch, seq, self.n_kv_heads, self.head_dim)
        v = self.wv(x).view(batch, seq, self.n_kv_heads, self.head_dim)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            k, v = cache.update(layer, k, v)  # (B, Tk, H_kv, hd): all tokens so far
        out = attend(q, k, v, ctx)  # (B, T, H, hd)
        return self.wo(out.reshape(batch, seq, -1))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.w1 = nn.Linear(config.d_model, config.d_ff, bias=False)  # gate
        self.w3 = nn.Linear(config.d_model, config.d_ff, bias=False)  # up
        self.w2 = nn.Linear(config.d_ff, config.d_model, bias=False)  # down

    def forward(self, x: Tensor) -> Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.layer = layer
        self.attention_norm = RMSNorm(config.d_model, config.norm_eps)
        self.attention = Attention(config)
        self.ffn_norm = RMSNorm(config.d_model, config.norm_eps)
        self.feed_forward = FeedForward(config)

    def forward(
        self,
        x: Tensor,
        cos: Tensor,
        sin: Tensor,
        ctx: AttentionContext,
        cache: KVCache | None = None,
    ) -> Tensor:
        x = x + self.attention(self.attention_norm(x), cos, sin, ctx, cache, self.layer)
        return x + self.feed_forward(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList(Block(config, i) for i in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        # A tied head reads the embedding matrix directly instead of owning a second parameter.
        self.output = (
            None
            if config.tie_embeddings
            else nn.Linear(config.d_model, config.vocab_size, bias=False)
        )
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """N(0, init_std); output projections of residual branches scaled by 1/sqrt(2 n_layers).

        Each block adds two branches to the residual stream; scaling their last projection keeps
        the stream's variance independent of depth (GPT-2, Megatron, torchtitan).
        """
        std = self.config.init_std
        residual_std = std / math.sqrt(2 * self.config.n_layers)
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                scaled = name.endswith(("attention.wo", "feed_forward.w2"))
                nn.init.normal_(module.weight, mean=0.0, std=residual_std if scaled else std)
            elif isinstance(module, RMSNorm):
                nn.init.ones_(module.weight)

    def hidden_states(
        self,
        tokens: Tensor,
        *,
        doc_ids: Tensor | None = None,
        positions: Tensor | None = None,
        cache: KVCache | None = None,
    ) -> Tensor:
        """Final-normed hidden states (B, T, d_model) of tokens (B, T).

        ``doc_ids`` (B, T) packs documents: a new one starts wherever the label changes, tokens
        attend only within their document, and positions restart at 0. With a ``cache``, the
        tokens continue the cached ones; ``doc_ids`` and ``positions`` are then required.
        """
        if cache is not None and (doc_ids is None or positions is None):
            raise ValueError("decoding with a KV cache needs explicit doc_ids and positions")
        ctx = self.attention_context(tokens, doc_ids, cache)
        if positions is None:
            positions = (
                document_positions(doc_ids)
                if doc_ids is not None
                else torch.arange(tokens.shape[1], device=tokens.device).expand_as(tokens)
            )
        cos, sin = rope_tables(
            positions, self.config.head_dim, self.config.rope_theta, self.config.rope_scaling
        )
        x = self.tok_embeddings(tokens)
        for block in self.layers:
            if self.config.activation_checkpointing and self.training and cache is None:
                x = checkpoint(block, x, cos, sin, ctx, use_reentrant=False)
            else:
                x = block(x, cos, sin, ctx, cache)
        if cache is not None:
            cache.end()
        return self.norm(x)

    def attention_context(
        self, tokens: Tensor, doc_ids: Tensor | None, cache: KVCache | None
    ) -> AttentionContext:
        """Backend and masking for this pass, shared by every layer."""
        if cache is not None:
            assert doc_ids is not None  # checked by the caller
            return cached_context(doc_ids, cache.begin(doc_ids))
        dtype = self.activation_dtype(tokens.device)
        backend = resolve_backend(self.config.attention_backend, tokens.device, dtype)
        return packed_context(backend, doc_ids)

    def activation_dtype(self, device: torch.device) -> torch.dtype:
        """The dtype the blocks compute in: autocast's when it is on, else the weights'."""
        if torch.is_autocast_enabled(device.type):
            return torch.get_autocast_dtype(device.type)
        return self.tok_embeddings.weight.dtype

    def logits(self, hidden: Tensor) -> Tensor:
        """Output head: (..., d_model) -> (..., vocab_size)."""
        if self.output is None:
            return F.linear(hidden, self.tok_embeddings.weight)
        return self.output(hidden)

    def forward(
        self,
        tokens: Tensor,
        *,
        doc_ids: Tensor | None = None,
        positions: Tensor | None = None,
        cache: KVCache | None = None,
    ) -> Tensor:
        """Logits (B, T, vocab_size) for tokens (B, T); see ``hidden_states`` for the options."""
        hidden = self.hidden_states(tokens, doc_ids=doc_ids, positions=positions, cache=cache)
        return self.logits(hidden)
