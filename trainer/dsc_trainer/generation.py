"""Batched autoregressive generation with a KV cache: greedy, or sampling with temperature/top-p.

Prompts of different lengths are left-padded into one batch. Padding gets its own document label,
so real tokens never attend to it, and each prompt's positions start at 0: every row computes what
it would alone (up to float rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from dsc_trainer.kv_cache import KVCache
from dsc_trainer.model import Transformer

PAD_DOC, PROMPT_DOC = 0, 1


def generate(
    model: Transformer,
    prompts: list[list[int]],
    *,
    max_new_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    eos_token_id: int | None = None,
    stop_strings: Sequence[str] = (),
    decode: Callable[[list[int]], str] | None = None,
    seed: int | Sequence[int] = 0,
) -> list[list[int]]:
    """The newly generated token ids of each prompt.

    A row stops after ``max_new_tokens``, at ``eos_token_id`` (not included in the result), or
    after the token whose decoded text completes one of ``stop_strings`` (searched in the
    generated text only, decoded with ``decode``). That last token IS included, so the decoded
    result contains the stop string and possibly a few characters after it: callers cut the
    text with ``cut_at_stop``. ``temperature == 0`` is greedy; otherwise tokens are sampled from
    the top-p nucleus with a generator seeded by ``seed`` (same prompts and seed, same output);
    with one seed per prompt, each row has a generator of its own, so a row's sample does not
    depend on the other prompts of the batch.
    """
    _check_arguments(prompts, max_new_tokens, temperature, top_p, stop_strings, decode)
    if max_new_tokens == 0:
        return [[] for _ in prompts]
    param = next(model.parameters())
    tokens, doc_ids, positions = _left_pad(prompts, param.device)
    batch, width = tokens.shape
    cache = KVCache(model.config, batch, width + max_new_tokens, param.device, param.dtype)
    seeds = [seed] if isinstance(seed, int) else list(seed)
    if len(seeds) not in (1, batch):
        raise ValueError(f"generate: {len(seeds)} seeds for {batch} prompts")
    generators = [torch.Generator(device=param.device).manual_seed(s) for s in seeds]
    lengths = torch.tensor([len(p) for p in prompts], device=param.device)
    outputs: list[list[int]] = [[] for _ in prompts]
    finished = [False] * batch
    with torch.no_grad():
        hidden = model.hidden_states(tokens, doc_ids=doc_ids, positions=positions, cache=cache)
        for step in range(max_new_tokens):
            logits = model.logits(hidden[:, -1]).float()  # (B, vocab)
            next_tokens = _pick(logits, temperature, top_p, generators)
            for row, token in enumerate(next_tokens.tolist()):
                if not finished[row]:
                    finished[row] = _append(outputs[row], token, eos_token_id, stop_strings, decode)
            if all(finished) or step == max_new_tokens - 1:
                break
            hidden = model.hidden_states(
                next_tokens[:, None],
                doc_ids=torch.full((batch, 1), PROMPT_DOC, device=param.device),
                positions=(lengths + step)[:, None],
                cache=cache,
            )
    return outputs


def cut_at_stop(text: str, stop_strings: Sequence[str]) -> str:
    """``text`` up to (excluding) the earliest occurrence of any stop string."""
    cut = min((i for s in stop_strings if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


def _check_arguments(
    prompts: list[list[int]],
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    stop_strings: Sequence[str],
    decode: Callable[[list[int]], str] | None,
) -> None:
    if not prompts:
        raise ValueError("generate: no prompts")
    empty = [i for i, p in enumerate(prompts) if not p]
    if empty:
        raise ValueError(f"generate: prompts {empty} are empty (start them with a BOS token)")
    if max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be >= 0, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"generate: top_p must be in (0, 1], got {top_p}")
    if stop_strings and decode is None:
        raise ValueError("generate: stop_strings need a decode function")
    if any(not s for s in stop_strings):
        raise ValueError("generate: stop strings must be non-empty")


def _left_pad(prompts: list[list[int]], device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """tokens, doc_ids and positions (B, longest prompt), each prompt flush right."""
    width = max(len(p) for p in prompts)
    tokens = torch.zeros(len(prompts), width, dtype=torch.long)
    doc_ids = torch.full((len(prompts), width), PAD_DOC, dtype=torch.long)
    positions = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, prompt in enumerate(prompts):
        start = width - len(prompt)
        tokens[row, start:] = torch.tensor(prompt, dtype=torch.long)
        doc_ids[row, start:] = PROMPT_DOC
        positions[row, start:] = torch.arange(len(prompt))
    return tokens.to(device), doc_ids.to(device), positions.to(device)


def _pick(
    logits: Tensor, temperature: float, top_p: float, generators: list[torch.Generator]
) -> Tensor:
    """Next token per row (B,) from logits (B, vocab); one generator for all rows, or one each."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1:
        probs = top_p_filter(probs, top_p)
    if len(generators) == 1:
        return torch.multinomial(probs, 1, generator=generators[0])[:, 0]
    pairs = zip(probs, generators, strict=True)
    return torch.stack([torch.multinomial(row[None], 1, generator=g)[0, 0] for row, g in pairs])


def top_p_filter(probs: Tensor, top_p: float) -> Tensor:
    """Zero all but the smallest set of most likely tokens whose mass reaches ``top_p``."""
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    sorted_probs[mass_before >= top_p] = 0.0  # the most likely token always stays
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


def _append(
    output: list[int],
    token: int,
    eos_token_id: int | None,
    stop_strings: Sequence[str],
    decode: Callable[[list[int]], str] | None,
) -> bool:
    """Add ``token`` to a row's output; True when the row is finished."""
    if token == eos_token_id:
        return True
    output.append(token)
    if decode is None or not stop_strings:
        return False
    text = decode(output)
    return any(s in text for s in stop_strings)
