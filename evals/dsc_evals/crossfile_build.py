"""Our cross-file completion benchmark, built from any repositories with CrossCodeEval's method
(Ding et al., NeurIPS 2023 D&B) and written in its record schema. It is our benchmark, not
CrossCodeEval: its figures are ours.

A completion point is a line of a Python, Java, TypeScript or C# file that uses a name defined in
another file of the same repository which the file depends on: the dependencies are those of our
import graph (:func:`dsc.ordering.file_imports`, which also counts Java's and C#'s same-package
types), the definitions are found by the patterns of :data:`DEFINITIONS`, and a name the file
defines itself does not count. The prompt is the file up to the line's first non-blank character,
the ground truth the rest of the line, and the cross-file context the BM25 chunks of the
repository's other files of the language (:mod:`dsc_evals.retrieval`). Each file gives at most
``per_file`` points, drawn with a generator seeded by ``seed``, the repository and the path, so the
output depends only on the repositories and the settings; a point's ground truth is one whole
statement by the metric's own cut (:func:`dsc_evals.crossfile_metrics.first_statement`).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dsc.ordering import MANIFEST_NAMES, file_imports
from dsc_evals.crossfile_metrics import first_statement, identifiers
from dsc_evals.data import write_atomic
from dsc_evals.retrieval import ChunkIndex, query_of

# File extension -> (our language name, its GitHub Linguist name for the import graph).
EXTENSIONS = {
    ".py": ("python", "Python"),
    ".java": ("java", "Java"),
    ".ts": ("typescript", "TypeScript"),
    ".cs": ("csharp", "C#"),
}

_JAVA_LIKE = (
    r"\b(?:class|interface|enum|record|struct)\s+([A-Za-z_]\w*)"
    r"|^\s*(?:public|protected|internal)\b[^=;(]*?\b([A-Za-z_]\w*)\s*\("  # methods, constructors
    r"|^\s*public\s+(?:static|const)\b[^=;(]*?\b([A-Za-z_]\w*)\s*="  # constants
)
# What a file defines, per language: one group per alternative, the defined name.
DEFINITIONS = {
    "python": re.compile(
        r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)",
        re.MULTILINE,
    ),
    "java": re.compile(_JAVA_LIKE, re.MULTILINE),
    "csharp": re.compile(_JAVA_LIKE, re.MULTILINE),
    "typescript": re.compile(
        r"^\s*export\s+(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
        r"(?:const|let|var|function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)",
        re.MULTILINE,
    ),
}
# Lines that only say where names come from; their names are not to be completed.
IMPORT_LINE = {
    "python": re.compile(r"^\s*(?:from|import)\s"),
    "java": re.compile(r"^\s*(?:import|package)\s"),
    "csharp": re.compile(r"^\s*(?:using|namespace)\s"),
    "typescript": re.compile(r"^\s*(?:import\b|export\s+(?:\*|\{[^}]*\})\s*from\b)"),
}
COMMENT_STARTS = ("#", "//", "/*", "*", '"""', "'''")


@dataclass(frozen=True)
class BuildConfig:
    per_file: int = 2  # completion points drawn per file, at most
    seed: int = 0
    top_k: int = 10  # cross-file chunks kept per point (the prompt uses what fits 512 tokens)
    min_chars: int = 6  # ground truths shorter than this (`}`, `x += 1`) are no test of recall
    max_chars: int = 200
    min_name_chars: int = 3  # shorter names (`id`, `ok`) match too much by chance

    def __post_init__(self) -> None:
        for name in ("per_file", "top_k", "min_chars", "max_chars", "min_name_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"BuildConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.min_chars > self.max_chars:
            raise ValueError("BuildConfig.min_chars must be <= max_chars")


@dataclass(frozen=True)
class Source:
    repo: str
    path: str
    language: str
    linguist: str
    content: str


def read_sources(
    repos: Path, only: tuple[str, ...] = ()
) -> tuple[list[Source], list[tuple[str, str, str]]]:
    """Every subdirectory of ``repos`` (those named in ``only``, when given) is a repository: its
    source files of the four languages (valid UTF-8 only) and its manifests (``repo, path,
    content``, for import resolution)."""
    if not repos.is_dir():
        raise FileNotFoundError(f"{repos} is not a directory of repositories")
    roots = sorted(p for p in repos.iterdir() if p.is_dir() and not p.name.startswith("."))
    missing = sorted(set(only) - {p.name for p in roots})
    if missing:
        raise FileNotFoundError(f"{repos} has no repositories {missing}")
    sources, manifests = [], []
    for root in (p for p in roots if not only or p.name in only):
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = file.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            kind = EXTENSIONS.get(file.suffix)
            if kind is None and file.name not in MANIFEST_NAMES:
                continue
            try:
                content = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # not text we can cut into lines faithfully
            if kind is None:
                manifests.append((root.name, relative.as_posix(), content))
            else:
                sources.append(Source(root.name, relative.as_posix(), *kind, content))
    return sources, manifests


def dependencies(sources: list[Source], manifests: list[tuple[str, str, str]]) -> list[list[str]]:
    """For each source, the paths of its repository's files that it imports."""
    files = pl.DataFrame(
        [(s.repo, s.path, s.linguist, s.content) for s in sources],
        schema=["repo", "path", "lang", "content"],
        orient="row",
    )
    extra = pl.DataFrame(manifests, schema=["repo", "path", "content"], orient="row")
    return file_imports(files, extra if manifests else None)["deps"].to_list()


def defined_names(source: Source) -> set[str]:
    return {
        name
        for match in DEFINITIONS[source.language].finditer(source.content)
        for name in match.groups()
        if name
    }


def completion_lines(source: Source, names: set[str], config: BuildConfig) -> list[int]:
    """The indices of the lines of ``source`` that use one of ``names`` and can be completed."""
    found = []
    for number, line in enumerate(source.content.split("\n")):
        text = line.strip()
        if not config.min_chars <= len(text) <= config.max_chars or number == 0:
            continue
        if text.startswith(COMMENT_STARTS) or IMPORT_LINE[source.language].match(line):
            continue
        if names.intersection(identifiers(text, source.language)):
            found.append(number)
    return found


def build_records(sources: list[Source], deps: list[list[str]], config: BuildConfig) -> list[Any]:
    """The benchmark's records, in repository, path and line order."""
    by_key = {(s.repo, s.path): s for s in sources}
    definitions = {key: defined_names(source) for key, source in by_key.items()}
    indexes: dict[tuple[str, str], ChunkIndex] = {}
    records = []
    for source, paths in zip(sources, deps, strict=True):
        own = definitions[(source.repo, source.path)]
        names = {
            name
            for path in paths
            if (source.repo, path) in definitions
            for name in definitions[(source.repo, path)]
            if len(name) >= config.min_name_chars and name not in own
        }
        chosen = draw_points(source, completion_lines(source, names, config), config)
        if not chosen:
            continue
        key = (source.repo, source.language)
        if key not in indexes:
            indexes[key] = ChunkIndex(
                {s.path: s.content for s in sources if (s.repo, s.language) == key}
            )
        records += [record(source, n, names, indexes[key], config) for n in chosen]
    return records


def split_at(source: Source, number: int) -> tuple[str, str]:
    """The prompt (the file up to line ``number``'s first non-blank character) and the ground
    truth (the rest of that line)."""
    lines = source.content.split("\n")
    line = lines[number]
    indent = len(line) - len(line.lstrip())
    return "".join(f"{previous}\n" for previous in lines[:number]) + line[:indent], line[indent:]


def draw_points(source: Source, lines: list[int], config: BuildConfig) -> list[int]:
    """Up to ``per_file`` of ``lines``, drawn at random, whose ground truth is one whole
    statement: the metric keeps a completion's first statement only, so a line holding less
    (an open bracket) or more (``a; b;``) could never be matched."""
    order = list(lines)
    random.Random(f"{config.seed}/{source.repo}/{source.path}").shuffle(order)
    chosen: list[int] = []
    for number in order:
        if len(chosen) == config.per_file:
            break
        prompt, groundtruth = split_at(source, number)
        if first_statement(prompt, groundtruth + "\n", source.language) == groundtruth:
            chosen.append(number)
    return sorted(chosen)


def record(
    source: Source, number: int, names: set[str], index: ChunkIndex, config: BuildConfig
) -> dict[str, Any]:
    """The CrossCodeEval-schema record of line ``number`` of ``source``."""
    prompt, groundtruth = split_at(source, number)
    lines = source.content.split("\n")
    used = sorted(names.intersection(identifiers(groundtruth, source.language)))
    hits = index.search(query_of(prompt), source.path, config.top_k)
    return {
        "prompt": prompt,
        "groundtruth": groundtruth,
        "right_context": "\n" + "\n".join(lines[number + 1 :]),
        "metadata": {
            "task_id": f"{source.language}/{source.repo}/{source.path}:{number + 1}",
            "language": source.language,
            "repository": source.repo,
            "file": source.path,
            "groundtruth_start_lineno": number + 1,
            "crossfile_names": used,
        },
        "crossfile_context": {
            "list": [
                {"retrieved_chunk": h.chunk.text, "filename": h.chunk.path, "score": h.score}
                for h in hits
            ]
        },
    }


def build(
    repos: Path, out: Path, config: BuildConfig | None = None, only: tuple[str, ...] = ()
) -> Counter[str]:
    """Write the benchmark of the repositories under ``repos`` (those named in ``only``, when
    given) to ``out`` (JSON lines); returns the number of points per language."""
    config = config or BuildConfig()
    sources, manifests = read_sources(repos, only)
    if not sources:
        raise ValueError(f"{repos}: no Python, Java, TypeScript or C# files in its repositories")
    records = build_records(sources, dependencies(sources, manifests), config)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    write_atomic(out, text.encode("utf-8"))
    return Counter(r["metadata"]["language"] for r in records)
