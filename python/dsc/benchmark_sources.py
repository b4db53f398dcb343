"""Benchmark items for decontamination: HumanEval, MBPP, GSM8K, MATH and any user JSONL.

Each source is a JSON-lines file whose records hold one or more text fields (a prompt, a
solution, tests, a question...). :func:`load_items` turns records into
:class:`BenchmarkItem` texts, one per record and field, with ids such as
``HumanEval/0:canonical_solution`` so that every removal can be traced to its item.

Where the files come from, in order:

1. a local directory (``benchmarks_dir`` or the ``DSC_BENCHMARKS_DIR`` environment variable)
   holding the files under their usual names (``humaneval-python.jsonl``, ``mbpp.jsonl``,
   ``gsm8k-test.json``, ``math-test.json``), for offline machines;
2. otherwise the public location of each benchmark, downloaded once into a cache directory
   (``~/.cache/dsc/benchmarks``, written atomically).

The loader only knows records and text fields; task logic (prompts, execution) belongs to
the evals package.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

BENCHMARKS_DIR_ENV = "DSC_BENCHMARKS_DIR"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "dsc" / "benchmarks"
DOWNLOAD_TIMEOUT_S = 60


class BenchmarkItem(NamedTuple):
    """One benchmark text, as indexed by the decontamination stage."""

    benchmark: str
    item_id: str
    text: str


@dataclass(frozen=True)
class BenchmarkSource:
    """A JSON-lines benchmark and the fields of each record that are indexed.

    ``filename`` is the file's name in a local benchmarks directory, ``url`` its public
    location (``.jsonl`` or ``.jsonl.gz``). A user's own file is given by ``path``.
    Records are identified by ``id_field``, or by their 0-based line number when it is None.
    """

    name: str
    text_fields: tuple[str, ...]
    id_field: str | None = None
    filename: str | None = None
    url: str | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("benchmark source needs a name")
        if not self.text_fields:
            raise ValueError(f"benchmark {self.name!r}: give at least one text field")
        if self.path is None and self.filename is None and self.url is None:
            raise ValueError(f"benchmark {self.name!r}: give a path, a filename or a url")


_DEEPSEEK_EVAL = "https://raw.githubusercontent.com/deepseek-ai/DeepSeek-Coder/main/Evaluation"

#: The benchmarks of PAPER.md stage 5, with the fields the paper names (docstring/prompt,
#: solution, tests, question, answer).
STANDARD_SOURCES: dict[str, BenchmarkSource] = {
    "humaneval": BenchmarkSource(
        name="humaneval",
        text_fields=("prompt", "canonical_solution", "test"),
        id_field="task_id",
        filename="humaneval-python.jsonl",
        url="https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz",
    ),
    "mbpp": BenchmarkSource(
        name="mbpp",
        text_fields=("text", "code", "test_list"),
        id_field="task_id",
        filename="mbpp.jsonl",
        url="https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl",
    ),
    "gsm8k": BenchmarkSource(
        name="gsm8k",
        text_fields=("question", "answer"),
        filename="gsm8k-test.json",
        url="https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl",
    ),
    "math": BenchmarkSource(
        name="math",
        text_fields=("problem", "solution"),
        filename="math-test.json",
        url=f"{_DEEPSEEK_EVAL}/PAL-Math/datasets/math/test.json",
    ),
}


def user_source(
    name: str, path: str | Path, text_fields: Iterable[str], id_field: str | None = None
) -> BenchmarkSource:
    """A user's JSON-lines file with the named text fields (and optional id field)."""
    return BenchmarkSource(
        name=name, text_fields=tuple(text_fields), id_field=id_field, path=Path(path)
    )


def local_benchmarks_dir(benchmarks_dir: str | Path | None = None) -> Path | None:
    """The local benchmarks directory: the argument, else ``DSC_BENCHMARKS_DIR``, else None."""
    chosen = benchmarks_dir or os.environ.get(BENCHMARKS_DIR_ENV)
    return Path(chosen) if chosen else None


def locate(
    source: BenchmarkSource,
    benchmarks_dir: str | Path | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> Path:
    """The file to read for ``source``: the user's path, the local copy, or a download."""
    if source.path is not None:
        if not source.path.is_file():
            raise FileNotFoundError(f"benchmark {source.name!r}: no file at {source.path}")
        return source.path
    local = local_benchmarks_dir(benchmarks_dir)
    if local is not None and source.filename is not None and (local / source.filename).is_file():
        return local / source.filename
    if source.url is None:
        raise FileNotFoundError(
            f"benchmark {source.name!r}: {source.filename} not found in {local} "
            f"(set {BENCHMARKS_DIR_ENV}) and no url to download it from"
        )
    return _download(source.name, source.url, cache_dir / (source.filename or source.name))


def _download(name: str, url: str, target: Path) -> Path:
    """Fetch ``url`` once into ``target`` (decompressed, written atomically)."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data = response.read()
    except OSError as err:
        raise FileNotFoundError(
            f"benchmark {name!r}: no local copy (set {BENCHMARKS_DIR_ENV}) and "
            f"downloading {url} failed: {err}"
        ) from err
    if url.endswith(".gz"):
        data = gzip.decompress(data)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)
    return target


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of a JSON-lines file with their 0-based line numbers (blank lines skipped)."""
    with path.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{line_no + 1}: not valid JSON: {err}") from err
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{line_no + 1}: a record must be a JSON object")
            yield line_no, record


def _field_text(value: Any, where: str) -> str:
    """A text field as a string; a list of strings (MBPP's tests) joined by newlines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise ValueError(f"{where}: expected a string or a list of strings, got {type(value).__name__}")


def source_items(source: BenchmarkSource, path: Path) -> Iterator[BenchmarkItem]:
    """The items of one source file, in file order, fields in ``text_fields`` order."""
    for line_no, record in read_records(path):
        where = f"{path}:{line_no + 1}"
        if source.id_field is None:
            record_id = str(line_no)
        elif source.id_field in record:
            record_id = str(record[source.id_field])
        else:
            raise ValueError(f"{where}: missing id field {source.id_field!r}")
        for field in source.text_fields:
            if field not in record:
                raise ValueError(f"{where}: missing text field {field!r}")
            text = _field_text(record[field], f"{where} field {field!r}")
            yield BenchmarkItem(source.name, f"{record_id}:{field}", text)


def standard_sources(names: Iterable[str]) -> list[BenchmarkSource]:
    """The standard sources by name, with a clear error for an unknown name."""
    sources = []
    for name in names:
        if name not in STANDARD_SOURCES:
            known = ", ".join(sorted(STANDARD_SOURCES))
            raise ValueError(f"unknown benchmark {name!r}; known: {known}")
        sources.append(STANDARD_SOURCES[name])
    return sources


def load_items(
    sources: Iterable[BenchmarkSource],
    *,
    benchmarks_dir: str | Path | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> list[BenchmarkItem]:
    """Every item of ``sources``, in source order then file order."""
    items: list[BenchmarkItem] = []
    for source in sources:
        items.extend(source_items(source, locate(source, benchmarks_dir, cache_dir)))
    return items
