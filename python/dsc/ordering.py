"""Repository-level ordering (DeepSeek-Coder §2.2, Algorithm 1).

Each repository's files are parsed for imports, the imports are resolved to files of the same
repository, and the files are ordered so that dependencies come before the files that use
them: the import cycles (strongly connected components) in topological order, and inside a
cycle the file with the fewest unmet dependencies first (ties to the smaller path), so that
every edge outside a cycle points forwards. The ordered files are concatenated into samples,
each file preceded by a comment carrying its path in the language's comment syntax (none for
a language without comments, such as JSON, or an unknown one); ``offsets`` keeps every file's
byte span.

Manifests (``go.mod``, ``Cargo.toml``, ``package.json``: :data:`MANIFEST_NAMES`) tell the
resolvers how imports name files; pass them as ``manifests`` whether or not the corpus keeps
them.

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

#: File names the resolvers read although they are no source code: ``go.mod`` (a Go module
#: path), ``Cargo.toml`` (a Rust crate name), ``package.json`` (a JavaScript package name).
MANIFEST_NAMES: tuple[str, ...] = tuple(_dsc.manifest_names())

#: The languages the paper concatenated at repository level (DeepSeek-Coder issue #43).
PAPER_REPO_LEVEL_LANGUAGES = ("Python", "Java", "C#", "C", "C++")

FILE_COLUMNS = ("repo", "path", "lang", "content")
MANIFEST_COLUMNS = ("repo", "path", "content")


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


def is_manifest(path: str | pl.Expr) -> pl.Expr:
    """True for the rows whose file name (the last component of ``path``) is a manifest."""
    path = pl.col(path) if isinstance(path, str) else path
    return path.str.split("/").list.last().is_in(MANIFEST_NAMES)


def _columns(
    files: pl.DataFrame, manifests: pl.DataFrame | None
) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series, pl.Series]:
    """The input columns, manifests appended and flagged (their ``lang`` is null)."""
    _require(files, FILE_COLUMNS, "ordering")
    rows = files.select(*FILE_COLUMNS, manifest=pl.lit(False))
    if manifests is not None:
        _require(manifests, MANIFEST_COLUMNS, "ordering manifests")
        extra = manifests.select(
            "repo", "path", lang=pl.lit(None, pl.String), content="content", manifest=pl.lit(True)
        )
        rows = pl.concat([rows.cast({"lang": pl.String}), extra])
    repo, path, lang, content, manifest = rows.get_columns()
    return repo, path, lang, content, manifest


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(columns)}; missing {missing}")


def order_repositories(
    files: pl.DataFrame,
    cfg: OrderingConfig | None = None,
    manifests: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Order each repository's files and concatenate them into samples.

    ``files`` has one row per file: ``repo``, ``path`` (repository-relative), ``lang`` (a
    Linguist name or null) and ``content``. ``manifests`` (``repo``, ``path``, ``content``)
    are read for resolution only and appear in no sample; one whose path is also in ``files``
    is that file. The result has one row per sample: ``repo``, ``sample_id`` (its position in
    the repository), ``text``, ``files`` (paths in sample order), ``langs`` and ``offsets``
    (file ``i`` is ``text`` bytes ``offsets[i]:offsets[i + 1]``, path comment included). Rows
    are ordered by repository and sample; the result does not depend on the input row order.
    """
    cfg = cfg or OrderingConfig()
    return _dsc.order_repositories(
        *_columns(files, manifests),
        mode=cfg.mode,
        repo_level_languages=list(cfg.repo_level_languages),
    )


def file_imports(files: pl.DataFrame, manifests: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every file's imports, in input row order: ``repo``, ``path``, ``imports`` (as written),
    ``unresolved`` (those naming no file of the repository) and ``deps`` (the paths resolved).

    Besides statements, C#, Java and Kotlin files list the types they use from their own
    namespace or package as ``namespace <name>`` / ``package <name>``, when there are any.
    """
    out = _dsc.file_imports(*_columns(files, manifests))
    return out.head(files.height)  # the manifests' rows come last and have no imports


def min_in_degree_order(num_nodes: int, sources: pl.Series, targets: pl.Series) -> pl.DataFrame:
    """Algorithm 1, refined, on a bare graph: edges ``sources[i] -> targets[i]`` mean "comes
    before". Strongly connected components come in topological order (ties to the smallest
    node); inside one, the node of minimal in-degree from its component goes first.

    Returns ``node`` in emission order and the index of its weakly connected ``subgraph``.
    """
    node, subgraph = _dsc.min_in_degree_order(num_nodes, sources, targets)
    return pl.DataFrame([node, subgraph])
