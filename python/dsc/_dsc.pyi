# Stub of the compiled module `dsc._dsc` (crates/dsc-py), checked by `mypy.stubtest dsc._dsc`.
# Expression plugins are exported as C symbols for Polars, not as Python attributes; their
# typed wrappers live in the stage modules (dsc.filters, ...).

from collections.abc import Sequence
from os import PathLike
from typing import Any

import polars as pl

__version__: str

# Threads of the module's Rayon pool (its own, not Polars'; sized by dsc.threads).
def rayon_threads() -> int: ...

# The Rust defaults of each stage's config, as JSON (crates/dsc-py/src/defaults.rs).
def default_configs() -> str: ...

# Near-dedup (crates/dsc-py/src/dedup.rs; typed wrappers in dsc.dedup).
def lsh_optimal_params(
    threshold: float, num_perm: int, fp_weight: float, fn_weight: float
) -> tuple[int, int]: ...
def minhash_kernels() -> dict[str, str]: ...
def lsh_candidate_pairs(
    hashes: pl.Series, nodes: pl.Series, max_all_pairs: int
) -> tuple[pl.Series, pl.Series]: ...
def write_signature_file(
    path: PathLike[str] | str, signatures: pl.Series, num_perm: int
) -> None: ...
def signature_pair_similarity(
    files: Sequence[PathLike[str] | str],
    left_file: pl.Series,
    left_row: pl.Series,
    right_file: pl.Series,
    right_row: pl.Series,
) -> pl.Series: ...

class UnionFind:
    """Union-find over nodes ``0..n``, fed the pairs a batch at a time."""

    def __new__(cls, n: int) -> UnionFind: ...
    def __len__(self) -> int: ...
    def union(self, left: pl.Series, right: pl.Series) -> None: ...
    def components(self) -> tuple[pl.Series, dict[str, Any]]: ...

class DecontIndex:
    """A hashed n-gram index over benchmark records ``(benchmark, id, [(field, lang, text)])``."""

    def __new__(
        cls,
        records: list[tuple[str, str, list[tuple[str, str | None, str]]]],
        *,
        ngram: int,
        min_distinct_words: int,
        generic_share: float,
    ) -> DecontIndex: ...
    @property
    def key(self) -> str: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def unmatchable(self) -> list[tuple[str, str]]: ...
    def __len__(self) -> int: ...
    def scan(self, text: bytes, lang: str | None = None) -> tuple[str, str, int, int] | None: ...

# Repository-level ordering (crates/dsc-py/src/ordering.rs; typed wrappers in dsc.ordering).
def import_languages() -> list[str]: ...
def manifest_names() -> list[str]: ...
def order_repositories(
    repo: pl.Series,
    path: pl.Series,
    lang: pl.Series,
    content: pl.Series,
    manifest: pl.Series,
    *,
    mode: str,
    repo_level_languages: list[str],
) -> pl.DataFrame: ...
def file_imports(
    repo: pl.Series, path: pl.Series, lang: pl.Series, content: pl.Series, manifest: pl.Series
) -> pl.DataFrame: ...
def min_in_degree_order(
    num_nodes: int, sources: pl.Series, targets: pl.Series
) -> tuple[pl.Series, pl.Series]: ...
