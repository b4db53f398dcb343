"""Real code found on the machine, read as repositories.

Every machine that runs dsc has real source trees: the interpreter's standard library, its
site-packages, and the crate sources cargo downloaded. They are the embedded default input of
``python -m dsc.build_corpus`` and the real-data fixtures of the tests and benchmarks: each
top-level package directory is one repository, with real imports, cycles and vendored copies.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

# Trees that are not source code or that would double-count the same files.
_SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", "node_modules", "target", ".mypy_cache", ".pytest_cache"}
)

FILE_SCHEMA = {"repo": pl.String, "path": pl.String, "raw": pl.Binary}
#: Files found but not read, and why (``too_large``, ``unreadable``).
SKIPPED_SCHEMA = {"repo": pl.String, "path": pl.String, "reason": pl.String, "n_bytes": pl.UInt64}


@dataclass(frozen=True)
class Repository:
    """A directory read as one repository: ``name`` is its id in the corpus."""

    name: str
    root: Path
    # Files directly under `root` only (used for the stdlib's loose top-level modules).
    flat: bool = False

    def files(self, max_file_bytes: int | None = None) -> Iterator[Path]:
        """Regular files of the repository in sorted order; symlinks skipped, and files over
        ``max_file_bytes`` too when given."""
        for path in self._regular_files():
            if max_file_bytes is None or path.stat().st_size <= max_file_bytes:
                yield path

    def _regular_files(self) -> Iterator[Path]:
        if self.flat:
            yield from sorted(p for p in self.root.iterdir() if p.is_file() and not p.is_symlink())
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                path = Path(dirpath, name)
                if not path.is_symlink() and path.is_file():
                    yield path


def stdlib_repositories() -> list[Repository]:
    """The standard library: each top-level package a repository, loose modules one more."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    repos = [Repository("stdlib", stdlib, flat=True)]
    for child in sorted(stdlib.iterdir()):
        if child.is_dir() and child.name not in _SKIP_DIRS | {"site-packages"}:
            repos.append(Repository(f"stdlib/{child.name}", child))
    return repos


def site_packages_repositories(site_packages: Path | None = None) -> list[Repository]:
    """Each top-level package directory of site-packages (metadata folders skipped)."""
    root = site_packages or Path(sysconfig.get_paths()["purelib"])
    if not root.is_dir():
        return []
    return [
        Repository(f"site-packages/{child.name}", child)
        for child in sorted(root.iterdir())
        if child.is_dir()
        and child.name not in _SKIP_DIRS
        and not child.name.endswith((".dist-info", ".egg-info", ".data"))
    ]


def cargo_repositories() -> list[Repository]:
    """Crate sources under ``~/.cargo/registry/src``: each crate version a repository."""
    root = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"), "registry", "src")
    if not root.is_dir():
        return []
    return [
        Repository(f"crates/{crate.name}", crate)
        for index in sorted(root.iterdir())
        for crate in sorted(index.iterdir())
        if crate.is_dir()
    ]


def machine_repositories() -> list[Repository]:
    """All real code on the machine: stdlib, site-packages, then cargo's crate sources."""
    return stdlib_repositories() + site_packages_repositories() + cargo_repositories()


def read_repositories(
    repos: Iterable[Repository],
    *,
    max_bytes: int | None = None,
    max_file_bytes: int = 8 << 20,
    suffixes: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """Read repositories into a frame of ``repo``, ``path`` (relative) and ``raw`` bytes.

    Bytes are kept undecoded so that invalid UTF-8 and binary files reach the filters, which
    reject them with a reason instead of losing them here. ``max_bytes`` stops after roughly
    that many bytes (whole repositories only), for tests and benchmarks of a given size;
    ``suffixes`` keeps only files whose names end with one of them. Files over
    ``max_file_bytes`` and unreadable ones are left out (see :func:`read_repositories_and_skips`).
    """
    files, _ = read_repositories_and_skips(
        repos, max_bytes=max_bytes, max_file_bytes=max_file_bytes, suffixes=suffixes
    )
    return files


def read_repositories_and_skips(
    repos: Iterable[Repository],
    *,
    max_bytes: int | None = None,
    max_file_bytes: int = 8 << 20,
    suffixes: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`read_repositories`, and the files it did not read (``SKIPPED_SCHEMA``), so that
    none is lost silently: ``too_large`` (over ``max_file_bytes``, never read) and
    ``unreadable`` (an error while reading, e.g. permissions or a file that vanished)."""
    repo_col: list[str] = []
    path_col: list[str] = []
    raw_col: list[bytes] = []
    skipped: list[tuple[str, str, str, int]] = []
    total = 0
    for repo in repos:
        if max_bytes is not None and total >= max_bytes:
            break
        for path in repo.files():
            if suffixes is not None and not path.name.endswith(suffixes):
                continue
            relative = path.relative_to(repo.root).as_posix()
            data, size, reason = _read(path, max_file_bytes)
            if data is None:
                skipped.append((repo.name, relative, reason, size))
                continue
            repo_col.append(repo.name)
            path_col.append(relative)
            raw_col.append(data)
            total += len(data)
    files = pl.DataFrame({"repo": repo_col, "path": path_col, "raw": raw_col}, schema=FILE_SCHEMA)
    return files, pl.DataFrame(skipped, schema=SKIPPED_SCHEMA, orient="row")


def _read(path: Path, max_file_bytes: int) -> tuple[bytes | None, int, str]:
    """The file's bytes, or None with its size and why it was not read."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            return None, size, "too_large"
        return path.read_bytes(), size, ""
    except OSError:
        return None, 0, "unreadable"
