"""Key/value cache for incremental decoding: preallocated, one slot per token, shared by layers."""

from __future__ import annotations

import torch
from torch import Tensor

from dsc_trainer.config import ModelConfig


class KVCache:
    """Keys and values of every layer for the first ``length`` slots of each row.

    A forward pass over T new tokens calls ``begin(doc_ids)`` once, ``update`` once per layer,
    and ``end()``; the new tokens occupy slots ``length .. length + T``.
    """

    def __init__(
        self,
        config: ModelConfig,
        batch_size: int,
        capacity: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        shape = (config.n_layers, batch_size, capacity, config.n_kv_heads, config.head_dim)
        self.keys = torch.zeros(shape, device=device, dtype=dtype)
        self.values = torch.zeros(shape, device=device, dtype=dtype)
        self.doc_ids = torch.zeros(batch_size, capacity, device=device, dtype=torch.long)
        self.capacity = capacity
        self.length = 0
        self.step = 0  # tokens in the pass under way

    def begin(self, doc_ids: Tensor) -> Tensor:
        """Record the new tokens' document labels (B, T); returns the labels of all keys."""
        self.step = doc_ids.shape[1]
        end = self.length + self.step
        if end > self.capacity:
            raise ValueError(f"KV cache full: {end} tokens exceed its capacity {self.capacity}")
        self.doc_ids[:, self.length : end] = doc_ids
        return self.doc_ids[:, :end]

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store this layer's new k, v (B, T, H_kv, hd); return all keys and values so far."""
        end = self.length + self.step
        self.keys[layer, :, self.length : end] = k
        self.values[layer, :, self.length : end] = v
        return self.keys[layer, :, :end], self.values[layer, :, :end]

    def end(self) -> None:
        self.length += self.step
        self.step = 0
