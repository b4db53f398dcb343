from itertools import combinations
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc_evals.passk import mean_pass_at_k, pass_at_k


def brute_force(n: int, c: int, k: int) -> float:
    """Fraction of all k-subsets of n samples (the first c correct) holding a correct one."""
    subsets = list(combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_matches_enumeration(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 400), st.data())
def test_matches_exact_binomials_for_large_n(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    exact = 1 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-9)


@given(st.integers(1, 50), st.integers(1, 10_000))
def test_no_correct_sample_gives_zero_for_any_k(n, k):
    assert pass_at_k(n, 0, k) == 0.0


def test_more_draws_than_wrong_samples_gives_one():
    assert pass_at_k(5, 1, 5) == 1.0
    assert pass_at_k(5, 1, 50) == 1.0


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, -1, 1), (3, 1, 0)])
def test_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_reports_only_k_every_problem_can_support():
    scores = mean_pass_at_k({"a": [True, False], "b": [False, False, True]}, (1, 2, 3))
    assert set(scores) == {"pass@1", "pass@2"}
    assert scores["pass@1"] == pytest.approx((0.5 + 1 / 3) / 2)
