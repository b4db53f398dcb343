"""Benchmark records for decontamination: every benchmark the evals package scores, and any
user JSONL.

Each source is a JSON-lines file whose records hold one or more text fields (a prompt, a
solution, tests, a question...). :func:`load_records` turns each record into a
:class:`BenchmarkRecord` whose fields keep their order and language (code fields are in the
source's ``lang``, a Linguist name; ``prose_fields`` have none), so that the index can strip
comments as the field's language writes them and match a short field inside its record.
A match is reported as ``record:field`` (``HumanEval/0:canonical_solution``), so every removal
can be traced to its item.

The standard sources are HumanEval and its MultiPL-E translations (C++, C#, Java,
JavaScript, PHP, Shell, TypeScript), MBPP, LeetCode, GSM8K, MATH, DS-1000, the SantaCoder FIM
sets and the HumanEval infilling sets, as ``../shared/benchmarks/SOURCES.md`` lists them. The
SantaCoder FIM set's licence forbids training on it: the corpus must never contain it, so
it is indexed like the others.

Where the files come from, in order:

1. a local directory (``benchmarks_dir`` or the ``DSC_BENCHMARKS_DIR`` environment variable)
   holding the files under their usual names (``humaneval-python.jsonl``, ``mbpp.jsonl``,
   ``gsm8k-test.json``, ...: :data:`STANDARD_SOURCES`), for offline machines;
2. otherwise the public location of each benchmark, downloaded once into a cache directory
   (``~/.cache/dsc/benchmarks``, written atomically). The SantaCoder FIM sets are published
   as one file of three languages, so they are read from a local directory only.

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


class BenchmarkField(NamedTuple):
    """One text of a record; ``lang`` (a Linguist name) says how its comments are written,
    None for prose."""

    name: str
    lang: str | None
    text: str


class BenchmarkRecord(NamedTuple):
    """One benchmark task, as indexed by the decontamination stage: its fields in order."""

    benchmark: str
    record_id: str
    fields: tuple[BenchmarkField, ...]


@dataclass(frozen=True)
class BenchmarkSource:
    """A JSON-lines benchmark and the fields of each record that are indexed.

    ``filename`` is the file's name in a local benchmarks directory, ``url`` its public
    location (``.jsonl`` or ``.jsonl.gz``). A user's own file is given by ``path``.
    Records are identified by ``id_field``, or by their 0-based line number when it is None.
    Text fields are code in ``lang`` (a Linguist name; None: prose), except ``prose_fields``.
    """

    name: str
    text_fields: tuple[str, ...]
    id_field: str | None = None
    lang: str | None = None
    prose_fields: tuple[str, ...] = ()
    filename: str | None = None
    url: str | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("benchmark source needs a name")
        if not self.text_fields:
            raise ValueError(f"benchmark {self.name!r}: give at least one text field")
        if not set(self.prose_fields) <= set(self.text_fields):
            raise ValueError(f"benchmark {self.name!r}: prose_fields must be text fields")
        if self.path is None and self.filename is None and self.url is None:
            raise ValueError(f"benchmark {self.name!r}: give a path, a filename or a url")


_DEEPSEEK_EVAL = "https://raw.githubusercontent.com/deepseek-ai/DeepSeek-Coder/main/Evaluation"
_INFILLING = "https://raw.githubusercontent.com/openai/human-eval-infilling/master/data"

#: MultiPL-E's HumanEval translations: file suffix -> language.
MULTIPL_E = {
    "cpp": "C++",
    "cs": "C#",
    "java": "Java",
    "js": "JavaScript",
    "php": "PHP",
    "sh": "Shell",
    "ts": "TypeScript",
}
_SANTACODER_FIM = {"py": "Python", "java": "Java", "js": "JavaScript"}
_INFILLING_SETS = {
    "single-line": "SingleLineInfilling",
    "multi-line": "MultiLineInfilling",
    "random-span": "RandomSpan",
    "random-span-light": "RandomSpanLight",
}
# A program and its test: the fields of a task in the order they are run.
_INFILL_FIELDS = ("prompt", "canonical_solution", "suffix")

#: Every benchmark the evals package scores, with the fields that hold its text (prompt,
#: solution, tests, question, answer).
STANDARD_SOURCES: dict[str, BenchmarkSource] = {
    "humaneval": BenchmarkSource(
        name="humaneval",
        text_fields=("prompt", "canonical_solution", "test"),
        id_field="task_id",
        lang="Python",
        filename="humaneval-python.jsonl",
        url="https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz",
    ),
    **{
        f"humaneval-{ext}": BenchmarkSource(
            name=f"humaneval-{ext}",
            text_fields=("prompt", "tests"),  # translations have no solutions
            id_field="task_id",
            lang=lang,
            filename=f"humaneval-{ext}.jsonl",
            url=f"{_DEEPSEEK_EVAL}/HumanEval/data/humaneval-{ext}.jsonl",
        )
        for ext, lang in MULTIPL_E.items()
    },
    "mbpp": BenchmarkSource(
        name="mbpp",
        text_fields=("text", "code", "test_list"),
        id_field="task_id",
        lang="Python",
        prose_fields=("text",),
        filename="mbpp.jsonl",
        url="https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl",
    ),
    "leetcode": BenchmarkSource(
        name="leetcode",
        text_fields=("prompt", "test"),
        id_field="task_id",
        lang="Python",
        filename="leetcode-20240121-Jul.jsonl",
        url=f"{_DEEPSEEK_EVAL}/LeetCode/data/20240121-Jul.jsonl",
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
    "ds1000": BenchmarkSource(
        name="ds1000",
        # Not code_context: a generated harness of common imports and test-case builders
        # (`import torch.nn.functional as F`) that real code shares and models never see.
        text_fields=("prompt", "reference_code"),
        lang="Python",
        prose_fields=("prompt",),  # a question in prose around code
        filename="ds1000.jsonl",
        url="https://raw.githubusercontent.com/xlang-ai/DS-1000/main/data/ds1000.jsonl.gz",
    ),
    **{
        f"santacoder-fim-{ext}": BenchmarkSource(
            name=f"santacoder-fim-{ext}",
            text_fields=(*_INFILL_FIELDS, "tests"),
            id_field="name",
            lang=lang,
            filename=f"santacoder-fim-{ext}.jsonl",
        )
        for ext, lang in _SANTACODER_FIM.items()
    },
    **{
        f"humaneval-infilling-{variant}": BenchmarkSource(
            name=f"humaneval-infilling-{variant}",
            text_fields=(*_INFILL_FIELDS, "test"),
            id_field="task_id",
            lang="Python",
            filename=f"humaneval-infilling-{variant}.jsonl",
            url=f"{_INFILLING}/HumanEval-{name}.jsonl.gz",
        )
        for variant, name in _INFILLING_SETS.items()
    },
}


def user_source(
    name: str,
    path: str | Path,
    text_fields: Iterable[str],
    id_field: str | None = None,
    lang: str | None = None,
) -> BenchmarkSource:
    """A user's JSON-lines file with the named text fields (and optional id field), code in
    ``lang`` or prose."""
    return BenchmarkSource(
        name=name, text_fields=tuple(text_fields), id_field=id_field, lang=lang, path=Path(path)
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


def source_records(source: BenchmarkSource, path: Path) -> Iterator[BenchmarkRecord]:
    """The records of one source file, in file order, fields in ``text_fields`` order."""
    for line_no, record in read_records(path):
        where = f"{path}:{line_no + 1}"
        if source.id_field is None:
            record_id = str(line_no)
        elif source.id_field in record:
            record_id = str(record[source.id_field])
        else:
            raise ValueError(f"{where}: missing id field {source.id_field!r}")
        fields = []
        for name in source.text_fields:
            if name not in record:
                raise ValueError(f"{where}: missing text field {name!r}")
            text = _field_text(record[name], f"{where} field {name!r}")
            lang = None if name in source.prose_fields else source.lang
            fields.append(BenchmarkField(name, lang, text))
        yield BenchmarkRecord(source.name, record_id, tuple(fields))


def standard_sources(names: Iterable[str]) -> list[BenchmarkSource]:
    """The standard sources by name, with a clear error for an unknown name."""
    sources = []
    for name in names:
        if name not in STANDARD_SOURCES:
            known = ", ".join(sorted(STANDARD_SOURCES))
            raise ValueError(f"unknown benchmark {name!r}; known: {known}")
        sources.append(STANDARD_SOURCES[name])
    return sources


def load_records(
    sources: Iterable[BenchmarkSource],
    *,
    benchmarks_dir: str | Path | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> list[BenchmarkRecord]:
    """Every record of ``sources``, in source order then file order."""
    records: list[BenchmarkRecord] = []
    for source in sources:
        records.extend(source_records(source, locate(source, benchmarks_dir, cache_dir)))
    return records
