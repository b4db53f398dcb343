"""Document-level FIM: pieces that put back give the document, rates, seeded determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_trainer.fim import (
    FimConfig,
    Sentinels,
    assemble,
    draws,
    epoch_order,
    layout,
    plan,
)

S = Sentinels(bos=1000, eos=1001, fim_begin=1002, fim_hole=1003, fim_end=1004)


def undo(arranged: np.ndarray) -> np.ndarray:
    """The document text back from an arranged document, by its sentinels alone."""
    body = list(arranged)
    assert body[0] == S.bos and body[-1] == S.eos
    body = body[1:-1]
    if not body or body[0] != S.fim_begin:
        return np.array(body)
    if body[1] == S.fim_hole:  # SPM: suffix, then prefix + middle
        end = body.index(S.fim_end)
        return np.array(body[end + 1 :] + body[2:end])
    hole, end = body.index(S.fim_hole), body.index(S.fim_end)
    prefix, suffix, middle = body[1:hole], body[hole + 1 : end], body[end + 1 :]
    return np.array(prefix + middle + suffix)


@given(
    st.lists(st.integers(0, 999), max_size=60),
    st.booleans(),
    st.booleans(),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_putting_the_pieces_back_gives_the_document(text, fim, spm, a, b) -> None:
    tokens = np.array(text, dtype=np.int64)
    c1, c2 = sorted((min(a, len(text)), min(b, len(text))))
    arranged = assemble(tokens, layout(len(text), fim, spm and fim, c1, c2, S))
    assert len(arranged) == len(text) + 2 + (3 if fim else 0)
    assert np.array_equal(undo(arranged), tokens)
    if fim and not spm:  # PSM keeps DeepSeek-Coder's order: prefix, hole, suffix, end, middle
        expected = [S.bos, S.fim_begin, *text[:c1], S.fim_hole, *text[c2:], S.fim_end]
        assert list(arranged) == [*expected, *text[c1:c2], S.eos]


@given(st.integers(0, 2**63), st.integers(0, 50), st.floats(0.05, 0.95), st.floats(0.0, 1.0))
def test_fim_and_spm_rates_hold_within_four_standard_errors(seed, epoch, fim_rate, spm_rate):
    n = 4000
    docs = np.arange(n, dtype=np.int64)
    decided = plan(FimConfig(fim_rate, spm_rate), seed, epoch, docs, np.full(n, 100))
    fim = decided.fim.sum()
    assert abs(fim - n * fim_rate) <= 4 * np.sqrt(n * fim_rate * (1 - fim_rate))
    spm = decided.spm.sum()
    assert abs(spm - fim * spm_rate) <= 4 * np.sqrt(fim * spm_rate * (1 - spm_rate)) + 1e-9
    assert not (decided.spm & ~decided.fim).any()


def test_cut_points_are_uniform_over_the_positions() -> None:
    n, length = 40000, 10
    decided = plan(FimConfig(1.0), 3, 0, np.arange(n, dtype=np.int64), np.full(n, length))
    assert (decided.cut1 >= 0).all() and (decided.cut1 <= decided.cut2).all()
    assert (decided.cut2 <= length).all()
    # the unsorted draws are uniform over 0..length: both ends are reachable, each ~1/11
    values = np.concatenate([decided.cut1, decided.cut2])
    counts = np.bincount(values, minlength=length + 1)
    expected = len(values) / (length + 1)
    assert (np.abs(counts - expected) < 4 * np.sqrt(expected) + 0.05 * expected).all()


def test_every_draw_is_a_function_of_seed_epoch_and_document() -> None:
    docs = np.arange(1000, dtype=np.int64)
    lengths = np.full(1000, 50)
    cfg = FimConfig(0.5, 0.5)
    first, again = plan(cfg, 7, 2, docs, lengths), plan(cfg, 7, 2, docs[::-1], lengths)
    assert np.array_equal(first.cut1, again.cut1[::-1]) and np.array_equal(
        first.fim, again.fim[::-1]
    )
    other_epoch = plan(cfg, 7, 3, docs, lengths)
    assert not np.array_equal(first.cut1, other_epoch.cut1)
    assert not np.array_equal(draws(1, 0, docs, 1), draws(2, 0, docs, 1))


def test_epoch_order_is_a_seeded_permutation() -> None:
    order = epoch_order(5, 0, 1000)
    assert sorted(order.tolist()) == list(range(1000))
    assert np.array_equal(order, epoch_order(5, 0, 1000))
    assert not np.array_equal(order, epoch_order(5, 1, 1000))


def test_rates_outside_zero_one_are_refused() -> None:
    with pytest.raises(ValueError, match="fim_rate"):
        FimConfig(fim_rate=1.5)
