"""Repository-level ordering (PAPER.md §1 stage 2, Algorithm 1).

Each repository's files are parsed for imports, the imports are resolved to files of the same
repository, and the files are ordered so that dependencies come before the files that use
them: a topological sort that, inside a cycle, takes the file with the fewest unmet
dependencies (ties to the smaller path). The ordered files are concatenated into samples,
each file preceded by a comment carrying its path; ``offsets`` keeps every file's byte span.

>>> import polars as pl
>>> from dsc.ordering import order_repositories
>>> files = pl.DataFrame({
...     "repo": ["r", "r"],
...     "path": ["main.py", "util.py"],
...     "lang": ["Python", "Python"],
...     "content": ["import util\\n", "X = 1\\n"],
... })
>>> order_repositories(files).select("repo", "sample_id", "files", "offsets")
shape: (1, 4)
┌──────┬───────────┬────────────────────────┬─────────────┐
│ repo ┆ sample_id ┆ files                  ┆ offsets     │
│ ---  ┆ ---       ┆ ---                    ┆ ---         │
│ str  ┆ u32       ┆ list[str]              ┆ list[u64]   │
╞══════╪═══════════╪════════════════════════╪═════════════╡
│ r    ┆ 0         ┆ ["util.py", "main.py"] ┆ [0, 16, 38] │
└──────┴───────────┴────────────────────────┴─────────────┘
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import polars as pl

from dsc import _dsc

SampleMode = Literal["subgraph", "repository"]

#: Languages whose imports are understood (GitHub Linguist names, as in the ``lang`` column).
IMPORT_LANGUAGES: tuple[str, ...] = tuple(_dsc.import_languages())

#: The languages the paper concatenated at repository level (DeepSeek-Coder issue #43).
PAPER_REPO_LEVEL_LANGUAGES = ("Python", "Java", "C#", "C", "C++")

FILE_COLUMNS = ("repo", "path", "lang", "content")


@dataclass(frozen=True)
class OrderingConfig:
    """How repositories become samples.

    ``mode="subgraph"`` makes one sample per weakly connected subgraph of the import graph
    (the paper's); ``"repository"`` joins a repository's subgraphs into one sample. Files in
    other languages than ``repo_level_languages`` become one sample each.
    """

    mode: SampleMode = "subgraph"
    repo_level_languages: tuple[str, ...] = PAPER_REPO_LEVEL_LANGUAGES

    def __post_init__(self) -> None:
        if self.mode not in get_args(SampleMode):
            raise ValueError(
                f"ordering.mode must be one of {get_args(SampleMode)}, got {self.mode!r}"
            )
        unknown = [lang for lang in self.repo_level_languages if lang not in IMPORT_LANGUAGES]
        if unknown:
            raise ValueError(
                f"ordering.repo_level_languages: no import support for {unknown}; "
                f"supported: {list(IMPORT_LANGUAGES)}"
            )


def _file_columns(files: pl.DataFrame) -> list[pl.Series]:
    missing = [c for c in FILE_COLUMNS if c not in files.columns]
    if missing:
        raise ValueError(f"ordering needs columns {list(FILE_COLUMNS)}; missing {missing}")
    return [files.get_column(c) for c in FILE_COLUMNS]


def order_repositories(files: pl.DataFrame, cfg: OrderingConfig | None = None) -> pl.DataFrame:
    """Order each repository's files and concatenate them into samples.

    ``files`` has one row per file: ``repo``, ``path`` (repository-relative), ``lang`` (a
    Linguist name or null) and ``content``. The result has one row per sample: ``repo``,
    ``sample_id`` (its position in the repository), ``text``, ``files`` (paths in sample
    order), ``langs`` and ``offsets`` (file ``i`` is ``text`` bytes
    ``offsets[i]:offsets[i + 1]``, path comment included). Rows are ordered by repository and
    sample; the result does not depend on the input row order.
    """
    cfg = cfg or OrderingConfig()
    return _dsc.order_repositories(
        *_file_columns(files),
        mode=cfg.mode,
        repo_level_languages=list(cfg.repo_level_languages),
    )


def file_imports(files: pl.DataFrame) -> pl.DataFrame:
    """Every file's imports, in input row order: ``repo``, ``path``, ``imports`` (as written),
    ``unresolved`` (those naming no file of the repository) and ``deps`` (the paths resolved).
    """
    return _dsc.file_imports(*_file_columns(files))


def min_in_degree_order(num_nodes: int, sources: pl.Series, targets: pl.Series) -> pl.DataFrame:
    """Algorithm 1 on a bare graph: edges ``sources[i] -> targets[i]`` mean "comes before".

    Returns ``node`` in emission order and the index of its weakly connected ``subgraph``.
    """
    node, subgraph = _dsc.min_in_degree_order(num_nodes, sources, targets)
    return pl.DataFrame([node, subgraph])
