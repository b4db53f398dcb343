"""The settings of near-deduplication, validated once when built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from dsc import _dsc

#: How signature values are drawn (``dsc_core::minhash::Scheme``): ``oph`` hashes each shingle
#: once (one permutation hashing, Li, Owen, Zhang, NeurIPS 2012, with optimal densification,
#: Shrivastava, ICML 2017); ``classic`` takes ``num_perm`` permutations of every shingle, as
#: datasketch and datatrove do (and as dsc did before ``oph``, with the same signatures).
Scheme = Literal["oph", "classic"]


@dataclass(frozen=True)
class DedupConfig:
    """What near-duplicate means and how the work is split (DeepSeek-Coder §2.3).

    ``bands`` and ``rows`` default to the layout minimising ``fp_weight * FP + fn_weight * FN``
    (the areas under the LSH collision curve either side of ``threshold``, as text-dedup
    chooses them). Misses weigh more by default because candidates are verified: a false
    candidate costs one signature comparison, a miss leaves a duplicate in the corpus.
    """

    id_col: str = "id"  # unique row id (any sortable dtype)
    text_col: str = "text"  # String column that is shingled
    # Rows with the same value here are one unit (e.g. a repository's samples): its signature
    # is the MinHash of the union of its rows' shingles, its rank the sum of their lengths
    # (or their highest rank_col value), and all its rows are kept or removed together. A
    # unit's rows must be in one shard.
    group_col: str | None = None
    rank_col: str | None = None  # keep the highest per cluster; None: the longest text
    num_perm: int = 256  # MinHash permutations (signature length)
    scheme: Scheme = "oph"  # one hash per shingle; "classic": num_perm per shingle
    ngram: int = 5  # words per shingle
    seed: int = 42  # seed of the permutations
    lowercase: bool = True
    collapse_whitespace: bool = True
    threshold: float = 0.85  # Jaccard similarity from which two texts are duplicates
    bands: int | None = None  # LSH layout; both None: the optimal one
    rows: int | None = None
    fp_weight: float = 0.1
    fn_weight: float = 0.9
    verify: bool = True  # keep only candidate pairs whose estimated Jaccard >= threshold
    max_bucket_pairs: int = 64  # larger LSH buckets pair only with their first member
    num_partitions: int = 8  # band-hash partitions of stage 2 (its unit of work)
    drop_removed: bool = False  # stage 4 writes only kept rows (the default keeps all rows)

    def __post_init__(self) -> None:
        _check(bool(self.id_col) and bool(self.text_col), "id_col and text_col must be named")
        _check(self.id_col != self.text_col, "id_col and text_col must differ")
        _check(
            self.group_col is None or self.group_col not in (self.id_col, self.text_col),
            "group_col must differ from id_col and text_col",
        )
        _check(self.num_perm >= 1, "num_perm must be >= 1")
        _check(
            self.scheme in get_args(Scheme),
            f"scheme must be one of {get_args(Scheme)}, got {self.scheme!r}",
        )
        _check(self.ngram >= 1, "ngram must be >= 1")
        # The plugin receives its settings pickled, where integers from 2^63 do not decode as u64.
        _check(0 <= self.seed < 2**63, "seed must be in [0, 2^63)")
        _check(0.0 < self.threshold <= 1.0, "threshold must be in (0, 1]")
        _check((self.bands is None) == (self.rows is None), "set both bands and rows, or neither")
        if self.bands is not None and self.rows is not None:
            _check(
                self.bands >= 1 and self.rows >= 1 and self.bands * self.rows <= self.num_perm,
                f"bands x rows ({self.bands} x {self.rows}) must be in [1, num_perm]",
            )
        _check(self.fp_weight >= 0 and self.fn_weight >= 0, "weights must be >= 0")
        _check(self.fp_weight + self.fn_weight > 0, "fp_weight + fn_weight must be > 0")
        _check(self.max_bucket_pairs >= 2, "max_bucket_pairs must be >= 2")
        _check(self.num_partitions >= 1, "num_partitions must be >= 1")

    @property
    def unit_col(self) -> str:
        """The column naming what is deduplicated: the group, or else the row."""
        return self.group_col or self.id_col

    def layout(self) -> tuple[int, int]:
        """``(bands, rows)``: the configured layout, or the optimal one."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return _dsc.lsh_optimal_params(
            self.threshold, self.num_perm, self.fp_weight, self.fn_weight
        )

    def minhash_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the Rust signature expression."""
        return {
            "num_perm": self.num_perm,
            "scheme": self.scheme,
            "ngram": self.ngram,
            "seed": self.seed,
            "lowercase": self.lowercase,
            "collapse_whitespace": self.collapse_whitespace,
        }


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(f"invalid dedup config: {message}")
