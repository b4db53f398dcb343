"""Causal attention over packed documents, with FlashAttention-2 or PyTorch SDPA underneath.

A packed row holds several documents back to back; ``doc_ids`` (B, T) labels each token and a new
document starts wherever the label changes. A token attends only to earlier tokens of its own
document. The backend is chosen at run time, once per forward pass (never inside a block, so the
block stays free of graph breaks):

* ``flash``: ``flash_attn_func``, or ``flash_attn_varlen_func`` with ``cu_seqlens`` for packed
  rows; GQA natively. Needs the optional ``flash-attn`` package, CUDA and fp16/bf16 activations.
* ``sdpa``: ``F.scaled_dot_product_attention`` with ``enable_gqa`` and, for packed rows, a
  boolean block-diagonal causal mask.

``auto`` takes flash where it can run and SDPA elsewhere; the environment variable
``DSC_ATTENTION_BACKEND`` (auto / flash / sdpa) overrides the model config.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from dsc_trainer.config import ATTENTION_BACKENDS

log = logging.getLogger(__name__)

ENV_BACKEND = "DSC_ATTENTION_BACKEND"


@dataclass(frozen=True)
class AttentionContext:
    """What every layer's attention needs to know about the batch, computed once per forward."""

    backend: str  # "flash" or "sdpa"
    mask: Tensor | None = None  # sdpa: (B, 1, Tq, Tk) bool, True = may attend; None = causal
    cu_seqlens: Tensor | None = None  # flash: (n_docs + 1,) int32 offsets into the flat batch
    max_seqlen: int = 0  # flash: longest document


@functools.cache
def flash_attn_available() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


_logged_choices: set[tuple[str, str, str]] = set()


def resolve_backend(requested: str, device: torch.device, dtype: torch.dtype) -> str:
    """The backend for ``dtype`` activations on ``device``; logged once per new choice.

    The environment variable wins over ``requested`` (the model config's setting).
    """
    choice = os.environ.get(ENV_BACKEND, requested)
    if choice not in ATTENTION_BACKENDS:
        raise ValueError(f"{ENV_BACKEND}={choice!r}: expected one of {ATTENTION_BACKENDS}")
    half = dtype in (torch.float16, torch.bfloat16)
    flash_ok = device.type == "cuda" and half and flash_attn_available()
    if choice == "flash" and not flash_ok:
        raise RuntimeError(
            f"attention backend 'flash' requested but unavailable for {dtype} on {device.type}: "
            "it needs the flash-attn package (pip install 'dsc-trainer[gpu]'), CUDA tensors and "
            "fp16/bf16 activations (bf16 autocast)"
        )
    backend = "flash" if choice == "flash" or (choice == "auto" and flash_ok) else "sdpa"
    key = (choice, device.type, backend)
    if key not in _logged_choices:
        _logged_choices.add(key)
        log.info("attention backend %s on %s (requested %s)", backend, device.type, choice)
    return backend


def document_starts(doc_ids: Tensor) -> Tensor:
    """(B, T) bool: True where a document begins (each row's first token and every label change)."""
    starts = torch.ones_like(doc_ids, dtype=torch.bool)
    starts[:, 1:] = doc_ids[:, 1:] != doc_ids[:, :-1]
    return starts


def document_positions(doc_ids: Tensor) -> Tensor:
    """(B, T) position of each token within its document, counting from 0."""
    index = torch.arange(doc_ids.shape[1], device=doc_ids.device).expand_as(doc_ids)
    start_index = torch.where(document_starts(doc_ids), index, 0).cummax(dim=1).values
    return index - start_index


def packed_context(backend: str, doc_ids: Tensor | None) -> AttentionContext:
    """Context for a full forward pass (no KV cache) over rows packed as ``doc_ids`` says."""
    if doc_ids is None:
        return AttentionContext(backend)
    starts = document_starts(doc_ids)
    if backend == "flash":
        flat_starts = starts.flatten().nonzero().flatten()
        end = torch.tensor([starts.numel()], device=starts.device)
        cu_seqlens = torch.cat((flat_starts, end)).to(torch.int32)
        max_seqlen = int((cu_seqlens[1:] - cu_seqlens[:-1]).max())
        return AttentionContext(backend, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)
    segment = starts.cumsum(dim=1)  # (B, T) running document number
    same_doc = segment[:, :, None] == segment[:, None, :]
    causal = torch.ones(doc_ids.shape[1], doc_ids.shape[1], dtype=torch.bool, device=doc_ids.device)
    return AttentionContext(backend, mask=(same_doc & causal.tril())[:, None])


def cached_context(query_doc_ids: Tensor, key_doc_ids: Tensor) -> AttentionContext:
    """SDPA context for decoding with a KV cache: the queries are the last Tq of the Tk keys.

    Padding carries its own label, so a real token never attends to it.
    """
    tq, tk = query_doc_ids.shape[1], key_doc_ids.shape[1]
    same_doc = query_doc_ids[:, :, None] == key_doc_ids[:, None, :]  # (B, Tq, Tk)
    key_slot = torch.arange(tk, device=key_doc_ids.device)
    query_slot = key_slot[tk - tq :]
    causal = key_slot[None, :] <= query_slot[:, None]
    return AttentionContext("sdpa", mask=(same_doc & causal)[:, None])


def attend(q: Tensor, k: Tensor, v: Tensor, ctx: AttentionContext) -> Tensor:
    """q (B, Tq, H, hd), k and v (B, Tk, H_kv, hd) -> (B, Tq, H, hd)."""
    if ctx.backend == "flash":
        return _flash_attend(q, k, v, ctx)
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2),  # (B, H, Tq, hd)
        k.transpose(1, 2),
        v.transpose(1, 2),
        attn_mask=ctx.mask,
        is_causal=ctx.mask is None,
        enable_gqa=q.shape[2] != k.shape[2],
    )
    return out.transpose(1, 2)


def _flash_attend(q: Tensor, k: Tensor, v: Tensor, ctx: AttentionContext) -> Tensor:
    # GPU only: cannot be exercised on the CPU machines this project is developed on.
    from flash_attn import (  # type: ignore[import-not-found,unused-ignore]  # optional extra
        flash_attn_func,
        flash_attn_varlen_func,
    )

    if ctx.cu_seqlens is None:
        return flash_attn_func(q, k, v, causal=True)
    batch, seq, heads, head_dim = q.shape
    out = flash_attn_varlen_func(
        q.reshape(batch * seq, heads, head_dim),
        k.reshape(batch * seq, k.shape[2], head_dim),
        v.reshape(batch * seq, v.shape[2], head_dim),
        cu_seqlens_q=ctx.cu_seqlens,
        cu_seqlens_k=ctx.cu_seqlens,
        max_seqlen_q=ctx.max_seqlen,
        max_seqlen_k=ctx.max_seqlen,
        causal=True,
    )
    return out.reshape(batch, seq, heads, head_dim)
