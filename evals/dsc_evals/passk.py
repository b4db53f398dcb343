"""The unbiased pass@k estimator of Chen et al. (2021), computed stably."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from ``n`` (``c`` correct) is correct.

    ``1 - C(n-c, k) / C(n, k)`` as the product ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``, which never
    forms the huge binomials. No correct sample gives 0 for every k (the reference code returned
    1.0 when k > n even then); with ``c > 0`` and fewer than ``k`` wrong samples it is 1.

    >>> pass_at_k(10, 0, 20), pass_at_k(10, 10, 1), round(pass_at_k(5, 1, 2), 6)
    (0.0, 1.0, 0.4)
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1:
        raise ValueError(f"need k >= 1, got k={k}")
    if c == 0:
        return 0.0
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(correct: Mapping[str, Sequence[bool]], ks: Sequence[int]) -> dict[str, float]:
    """``pass@k`` averaged over problems, for each k no larger than every problem's sample count."""
    if not correct:
        return {}
    fewest = min(len(samples) for samples in correct.values())
    scores = {}
    for k in ks:
        if k <= fewest:
            values = [pass_at_k(len(s), sum(s), k) for s in correct.values()]
            scores[f"pass@{k}"] = sum(values) / len(values)
    return scores
