"""Fixtures for the trainer tests: small thread count and tiny random HF Llama models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging

# CI has 2 cores; more threads than that only adds contention.
torch.set_num_threads(min(2, torch.get_num_threads()))
hf_logging.disable_progress_bar()

VOCAB = 128


def build_hf_llama(
    *, rope_factor: float | None = None, n_kv_heads: int = 2, tie: bool = False, seed: int = 0
) -> LlamaForCausalLM:
    """A random 2-layer HF Llama in eval mode; rope_factor None means plain RoPE (base 10,000)."""
    rope = (
        {"rope_type": "default", "rope_theta": 10000.0}
        if rope_factor is None
        else {"rope_type": "linear", "factor": rope_factor, "rope_theta": 100000.0}
    )
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=n_kv_heads,
        max_position_embeddings=256,
        rope_parameters=rope,
        tie_word_embeddings=tie,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def hf_llama() -> Callable[..., LlamaForCausalLM]:
    return build_hf_llama
