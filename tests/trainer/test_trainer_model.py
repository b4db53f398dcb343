"""The decoder: packing, RoPE, GQA, attention against a slow reference, init, checkpointing."""

from __future__ import annotations

import itertools
import logging
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.attention import (
    ENV_BACKEND,
    attend,
    document_positions,
    flash_attn_available,
    packed_context,
    resolve_backend,
)
from dsc_trainer.config import ModelConfig
from dsc_trainer.model import Transformer
from dsc_trainer.rope import apply_rope, rope_tables

TINY = ModelConfig(
    vocab_size=128, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=160, rope_scaling=4.0
)


def tiny_model(config: ModelConfig = TINY, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(config).eval()


def doc_ids_from_lengths(lengths: list[int]) -> torch.Tensor:
    return torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))[None]


# --- packing --------------------------------------------------------------------------------


def test_packed_documents_equal_each_document_alone():
    model = tiny_model()
    lengths = [7, 1, 12, 5]
    tokens = torch.randint(0, 128, (1, sum(lengths)), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        packed = model(tokens, doc_ids=doc_ids_from_lengths(lengths))[0]
        alone = [model(doc[None])[0] for doc in tokens[0].split(lengths)]
    assert (packed - torch.cat(alone)).abs().max().item() < 1e-5


@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=12), min_size=1, max_size=3))
def test_document_positions_match_a_loop(rows):
    width = max(len(r) for r in rows)
    doc_ids = torch.tensor([r + [r[-1]] * (width - len(r)) for r in rows])
    expected = []
    for row in doc_ids.tolist():
        positions = [0]
        for prev, cur in itertools.pairwise(row):
            positions.append(positions[-1] + 1 if cur == prev else 0)
        expected.append(positions)
    assert document_positions(doc_ids).tolist() == expected


def slow_attention(q, k, v, doc_ids):
    """Per (row, head, query) softmax over the earlier keys of the same document."""
    batch, seq, heads, head_dim = q.shape
    group = heads // k.shape[2]
    out = torch.zeros_like(q)
    for b in range(batch):
        for h in range(heads):
            for i in range(seq):
                allowed = [j for j in range(i + 1) if all(doc_ids[b, j : i + 1] == doc_ids[b, i])]
                keys = k[b, allowed, h // group]  # (n, hd)
                weights = torch.softmax(keys @ q[b, i, h] / math.sqrt(head_dim), dim=0)
                out[b, i, h] = weights @ v[b, allowed, h // group]
    return out


@given(
    kv_heads=st.sampled_from([1, 2, 4]),
    seq=st.integers(1, 9),
    labels=st.lists(st.integers(0, 2), min_size=9, max_size=9),
    seed=st.integers(0, 2**16),
)
def test_attention_matches_slow_reference(kv_heads, seq, labels, seed):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(2, seq, 4, 8, generator=gen, dtype=torch.float64)
    k = torch.randn(2, seq, kv_heads, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(2, seq, kv_heads, 8, generator=gen, dtype=torch.float64)
    doc_ids = torch.tensor([labels[:seq], labels[::-1][:seq]])
    fast = attend(q, k, v, packed_context("sdpa", doc_ids))
    assert torch.allclose(fast, slow_attention(q, k, v, doc_ids), atol=1e-10)


@given(group=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16))
def test_gqa_equals_mha_with_repeated_kv(group, seed):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(1, 6, 4, 8, generator=gen)
    k = torch.randn(1, 6, 4 // group, 8, generator=gen)
    v = torch.randn(1, 6, 4 // group, 8, generator=gen)
    ctx = packed_context("sdpa", None)
    mha = attend(q, k.repeat_interleave(group, dim=2), v.repeat_interleave(group, dim=2), ctx)
    assert torch.allclose(attend(q, k, v, ctx), mha, atol=1e-6)


# --- RoPE -----------------------------------------------------------------------------------


def rotated(x: torch.Tensor, position: float, theta: float, scaling: float) -> torch.Tensor:
    cos, sin = rope_tables(torch.tensor([[position]]), x.shape[-1], theta, scaling)
    return apply_rope(x.view(1, 1, 1, -1), cos, sin).flatten()


@given(
    m=st.integers(0, 4000),
    n=st.integers(0, 4000),
    shift=st.integers(0, 4000),
    scaling=st.sampled_from([1.0, 4.0]),
    seed=st.integers(0, 2**16),
)
def test_rope_scores_depend_only_on_relative_position(m, n, shift, scaling, seed):
    gen = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, 16, generator=gen, dtype=torch.float64)
    score = rotated(q, m, 1e4, scaling) @ rotated(k, n, 1e4, scaling)
    shifted = rotated(q, m + shift, 1e4, scaling) @ rotated(k, n + shift, 1e4, scaling)
    # Angles are float32 (as in HF): at position ~8000 they carry ~5e-4 rad of rounding error.
    assert math.isclose(score, shifted, abs_tol=2e-3 * float(q.norm() * k.norm()))


@given(position=st.integers(0, 1000), factor=st.sampled_from([2.0, 4.0]))
def test_linear_scaling_interpolates_positions(position, factor):
    # Power-of-two factors divide exactly in floating point, so only float32 angle rounding differs.
    x = torch.arange(16, dtype=torch.float64)
    scaled = rotated(x, position * factor, 1e5, factor)
    assert torch.allclose(scaled, rotated(x, position, 1e5, 1.0), atol=1e-4)


# --- backend choice -------------------------------------------------------------------------


@pytest.mark.skipif(flash_attn_available(), reason="flash_attn is installed here")
def test_sdpa_is_chosen_without_flash_attn(monkeypatch, caplog):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    with caplog.at_level(logging.INFO, logger="dsc_trainer.attention"):
        assert resolve_backend("auto", torch.device("cuda"), torch.bfloat16) == "sdpa"
    assert "attention backend sdpa on cuda" in caplog.text
    with pytest.raises(RuntimeError, match="flash-attn"):
        resolve_backend("flash", torch.device("cuda"), torch.bfloat16)


def test_cpu_always_takes_sdpa_and_env_overrides(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    assert resolve_backend("auto", torch.device("cpu"), torch.bfloat16) == "sdpa"
    monkeypatch.setenv(ENV_BACKEND, "flash")
    with pytest.raises(RuntimeError, match=r"unavailable for torch\.bfloat16 on cpu"):
        resolve_backend("sdpa", torch.device("cpu"), torch.bfloat16)
    monkeypatch.setenv(ENV_BACKEND, "fast")
    with pytest.raises(ValueError, match=ENV_BACKEND):
        resolve_backend("auto", torch.device("cpu"), torch.bfloat16)


# --- init and training switches -------------------------------------------------------------


def test_output_projections_get_scaled_init():
    config = ModelConfig(vocab_size=64, d_model=256, n_layers=8, n_heads=4, n_kv_heads=4, d_ff=512)
    model = tiny_model(config)
    block = model.layers[0]
    assert block.attention.wq.weight.std().item() == pytest.approx(0.02, rel=0.05)
    scaled = 0.02 / math.sqrt(2 * 8)
    assert block.attention.wo.weight.std().item() == pytest.approx(scaled, rel=0.05)
    assert block.feed_forward.w2.weight.std().item() == pytest.approx(scaled, rel=0.05)
    assert torch.equal(block.ffn_norm.weight, torch.ones(256))


def test_activation_checkpointing_gives_the_same_gradients():
    tokens = torch.randint(0, 128, (2, 16), generator=torch.Generator().manual_seed(0))
    grads = []
    for checkpointing in (False, True):
        model = tiny_model(TINY.replace(activation_checkpointing=checkpointing)).train()
        model(tokens).logsumexp(-1).mean().backward()
        grads.append([p.grad for p in model.parameters()])
    for plain, recomputed in zip(*grads, strict=True):
        assert torch.allclose(plain, recomputed, atol=1e-6)


def test_tied_head_reads_the_embedding():
    model = tiny_model(TINY.replace(tie_embeddings=True))
    assert model.output is None
    assert sum(p.numel() for p in model.parameters()) == model.config.num_params()


def test_bf16_autocast_runs_and_stays_close():
    model = tiny_model()
    tokens = torch.randint(0, 128, (1, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        exact = model(tokens)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            approx = model(tokens)
    assert approx.dtype == torch.bfloat16
    assert (approx.float() - exact).abs().max().item() < 0.05
