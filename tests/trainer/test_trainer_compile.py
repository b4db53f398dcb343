"""torch.compile: a transformer block traces as one graph (forward and backward) and agrees."""

from __future__ import annotations

import pytest
import torch

from dsc_trainer.attention import packed_context
from dsc_trainer.config import named_config
from dsc_trainer.model import Block
from dsc_trainer.rope import rope_tables

CONFIG = named_config("tiny")


def block_inputs(ctx_doc_ids: torch.Tensor | None):
    torch.manual_seed(0)
    x = torch.randn(2, 16, CONFIG.d_model, requires_grad=True)
    cos, sin = rope_tables(
        torch.arange(16).expand(2, 16), CONFIG.head_dim, CONFIG.rope_theta, CONFIG.rope_scaling
    )
    return x, cos, sin, packed_context("sdpa", ctx_doc_ids)


def check_compiled_block(backend: str, ctx_doc_ids: torch.Tensor | None) -> None:
    torch._dynamo.reset()
    torch.manual_seed(0)
    block = Block(CONFIG, 0)
    x, cos, sin, ctx = block_inputs(ctx_doc_ids)
    compiled = torch.compile(block, fullgraph=True, backend=backend)  # graph break = error
    expected = block(x, cos, sin, ctx)
    (expected_grad,) = torch.autograd.grad(expected.square().sum(), x)
    got = compiled(x, cos, sin, ctx)
    (got_grad,) = torch.autograd.grad(got.square().sum(), x)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(got_grad, expected_grad, atol=1e-4)


PACKED = torch.tensor([[0] * 5 + [1] * 11, [0] * 16])


@pytest.mark.parametrize("doc_ids", [None, PACKED], ids=["causal", "packed"])
def test_block_traces_without_graph_breaks(doc_ids):
    # aot_eager runs dynamo and AOT autograd (all the tracing) without code generation: fast.
    check_compiled_block("aot_eager", doc_ids)


def test_block_compiles_with_inductor():
    # Inductor generates and builds C++: ~15-30 s on 2 cores with a cold cache, so one case only.
    check_compiled_block("inductor", PACKED)
