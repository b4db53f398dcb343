"""Where inputs and outputs live: local paths, or URLs of the storage fsspec reads.

A location with a scheme (``s3://bucket/stack/*.parquet``, ``gs://...``, ``file:///data``)
is read through fsspec (the scheme's package, e.g. ``s3fs``, must be installed; credentials
come from the environment, as each package documents), Parquet through Polars' own cloud
reader, which takes the same URLs. A plain path is a local file. So a Ray farm reads one
bucket: every worker opens the rows it needs by URL, on whatever node it runs.

An output URL is written whole at the end of the run: ``build_corpus`` writes into a local
staging directory (:func:`staging_dir`, kept across runs so that a killed run resumes) and
:func:`publish` uploads it, ``summary.json`` last, so a reader that sees ``summary.json``
sees the whole output.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

import fsspec
from fsspec.core import split_protocol, url_to_fs

#: The file whose presence says an output is complete; uploaded after every other file.
DONE_FILE = "summary.json"


def is_url(location: str) -> bool:
    """Whether ``location`` names storage by a scheme (``s3://...``) rather than a path."""
    return split_protocol(location)[0] is not None


def list_files(url: str, suffixes: tuple[str, ...]) -> list[str]:
    """The files with one of ``suffixes`` that ``url`` names (a file, a directory of them, or
    a glob), as sorted URLs of its scheme."""
    fs, path = url_to_fs(url)
    if fs.isdir(path):
        found = fs.ls(path, detail=False)
    else:
        found = fs.glob(path) if any(c in path for c in "*?[") else [path]
    return sorted(fs.unstrip_protocol(p) for p in found if p.endswith(suffixes) and fs.isfile(p))


def open_binary(location: str) -> IO[bytes]:
    """``location`` opened for reading bytes: a local path, or a URL through fsspec."""
    if not is_url(location):
        return open(location, "rb")
    opened: IO[bytes] = fsspec.open(location, "rb").open()
    return opened


def version(location: str) -> str:
    """What changes when the file at ``location`` changes: the local modification time, or
    the key fsspec derives from the object's metadata (an ETag, a generation)."""
    if not is_url(location):
        return str(os.stat(location).st_mtime_ns)
    fs, path = url_to_fs(location)
    return str(fs.ukey(path))


def staging_dir(url: str) -> Path:
    """The local directory an output ``url`` is built in, the same for every run of it
    (``DSC_STAGING_DIR``, default ``~/.cache/dsc/staging``)."""
    root = Path(os.environ.get("DSC_STAGING_DIR", Path.home() / ".cache" / "dsc" / "staging"))
    return root / hashlib.sha256(url.encode()).hexdigest()[:16]


def publish(local: Path, url: str) -> int:
    """Upload the output in ``local`` to ``url`` (temporary files left out), ``summary.json``
    last; returns the number of files uploaded."""
    fs, root = url_to_fs(url)
    files = sorted(p for p in local.rglob("*") if p.is_file() and not p.name.startswith("."))
    last = [p for p in files if p.relative_to(local).as_posix() == DONE_FILE]
    for path in [*(p for p in files if p not in last), *last]:
        target = f"{root.rstrip('/')}/{path.relative_to(local).as_posix()}"
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(path), target)
    return len(files)
