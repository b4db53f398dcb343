"""KV-cache generation: greedy parity with HF generate, padding, eos, stop strings, sampling."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.config import named_config
from dsc_trainer.generation import cut_at_stop, generate, top_p_filter
from dsc_trainer.hf_convert import load_checkpoint
from dsc_trainer.model import Transformer

PROMPTS = [[5, 17, 99, 3, 42, 8, 8, 1], [77], [12, 64, 31, 2, 90]]


@pytest.fixture(scope="module")
def models(tmp_path_factory, hf_llama):
    hf = hf_llama(rope_factor=4.0, n_kv_heads=2)
    path = tmp_path_factory.mktemp("ckpt") / "hf"
    hf.save_pretrained(path)
    return hf, load_checkpoint(path)


def hf_greedy(hf, prompt: list[int], max_new_tokens: int) -> list[int]:
    out = hf.generate(
        torch.tensor([prompt]),
        attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
        max_new_tokens=max_new_tokens,
        min_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=0,
    )
    return out[0, len(prompt) :].tolist()


def test_greedy_matches_hf_generate(models):
    hf, ours = models
    for prompt in PROMPTS:
        expected = hf_greedy(hf, prompt, 16)
        assert generate(ours, [prompt], max_new_tokens=16) == [expected]


def test_left_padded_batch_equals_each_prompt_alone(models):
    _, ours = models
    batched = generate(ours, PROMPTS, max_new_tokens=12)
    alone = [generate(ours, [p], max_new_tokens=12)[0] for p in PROMPTS]
    assert batched == alone
    assert all(len(row) == 12 for row in batched)


def test_eos_ends_a_row_and_is_left_out(models):
    _, ours = models
    free = generate(ours, PROMPTS, max_new_tokens=10)
    eos = free[0][4]
    stopped = generate(ours, PROMPTS, max_new_tokens=10, eos_token_id=eos)
    for row, out in zip(free, stopped, strict=True):
        expected = row[: row.index(eos)] if eos in row else row
        assert out == expected


def decode_letters(ids: list[int]) -> str:
    return "".join(chr(ord("a") + i % 26) for i in ids)


def test_stop_string_ends_after_the_completing_token(models):
    _, ours = models
    free = generate(ours, PROMPTS[:1], max_new_tokens=10)[0]
    stop = decode_letters(free[3:5])
    out = generate(ours, PROMPTS[:1], max_new_tokens=10, stop_strings=[stop], decode=decode_letters)
    text = decode_letters(free)
    first_hit = text.find(stop) + len(stop)
    assert out == [free[:first_hit]]
    assert cut_at_stop(decode_letters(out[0]), [stop]) == text[: text.find(stop)]


def test_sampling_is_seeded_and_tiny_top_p_is_greedy(models):
    _, ours = models
    sample = {"max_new_tokens": 12, "temperature": 1.0}
    first = generate(ours, PROMPTS, **sample, seed=1)
    assert generate(ours, PROMPTS, **sample, seed=1) == first
    assert generate(ours, PROMPTS, **sample, seed=2) != first
    greedy = generate(ours, PROMPTS, max_new_tokens=12)
    assert generate(ours, PROMPTS, **sample, top_p=1e-6, seed=3) == greedy


@given(
    probs=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=12),
    top_p=st.floats(0.05, 1.0),
)
def test_top_p_keeps_the_smallest_top_set_reaching_p(probs, top_p):
    p = torch.tensor(probs, dtype=torch.float64)
    p = (p / p.sum())[None]
    kept = top_p_filter(p, top_p)[0]
    order = p[0].argsort(descending=True)
    n_kept = int((kept > 0).sum())
    assert torch.equal(kept[order[:n_kept]], p[0, order[:n_kept]])  # a prefix of the ranking
    assert p[0, order[:n_kept]].sum() >= top_p - 1e-12
    assert p[0, order[: n_kept - 1]].sum() < top_p


def test_cut_at_stop_takes_the_earliest():
    assert cut_at_stop("abc\ndef\nclass X", ["\nclass", "\ndef"]) == "abc"
    assert cut_at_stop("no stop here", ["\n"]) == "no stop here"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": []}, "no prompts"),
        ({"prompts": [[1], []]}, r"prompts \[1\] are empty"),
        ({"max_new_tokens": -1}, "max_new_tokens"),
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"stop_strings": ["\n"]}, "decode"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    model = Transformer(named_config("tiny"))
    arguments = {"prompts": [[1, 2]], "max_new_tokens": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(model, arguments.pop("prompts"), **arguments)
