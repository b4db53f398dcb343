"""Rotary position embeddings with a base and a linear (position interpolation) factor.

The layout is Hugging Face's ``rotate_half`` (the two halves of a head are the pairs), so HF
Llama weights load without permuting the query/key projections.
"""

from __future__ import annotations

import torch
from torch import Tensor


def inverse_frequencies(
    head_dim: int, theta: float, scaling: float, device: torch.device
) -> Tensor:
    """``1 / (theta^(2i/d) * scaling)`` for i < d/2, float32: (head_dim // 2,)."""
    exponents = torch.arange(0, head_dim, 2, dtype=torch.int64, device=device).float() / head_dim
    # Dividing the frequencies by the factor equals dividing the positions (linear scaling).
    return 1.0 / (theta**exponents) / scaling


def rope_tables(
    positions: Tensor, head_dim: int, theta: float, scaling: float
) -> tuple[Tensor, Tensor]:
    """cos and sin for integer positions (B, T): each (B, T, 1, head_dim), float32."""
    inv_freq = inverse_frequencies(head_dim, theta, scaling, positions.device)
    angles = positions.float()[..., None] * inv_freq  # (B, T, head_dim/2)
    angles = torch.cat((angles, angles), dim=-1)  # (B, T, head_dim)
    return angles.cos()[:, :, None, :], angles.sin()[:, :, None, :]


def rotate_half(x: Tensor) -> Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate x (B, T, heads, head_dim) by its positions (in float32; returned in x's dtype)."""
    xf = x.float()
    return (xf * cos + rotate_half(xf) * sin).type_as(x)
