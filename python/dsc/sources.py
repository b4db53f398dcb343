"""Real code found on the machine, read as repositories.

Every machine that runs dsc has real source trees: the interpreter's standard library, its
site-packages, and the crate sources cargo downloaded. They are the embedded default input of
``python -m dsc.build_corpus`` and the real-data fixtures of the tests and benchmarks: each
top-level package directory is one repository, with real imports, cycles and vendored copies.
"""

from __future__ import annotations

import os
import stat
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

# Trees that are not source code or that would double-count the same files.
SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", "node_modules", "target", ".mypy_cache", ".pytest_cache"}
)

FILE_SCHEMA = {"repo": pl.String, "path": pl.String, "raw": pl.Binary}
#: Files found but not read, and why (``too_large``, ``unreadable``, ``unreadable_name``,
#: ``unreadable_dir``).
SKIPPED_SCHEMA = {"repo": pl.String, "path": pl.String, "reason": pl.String, "n_bytes": pl.UInt64}


def shown_name(name: str) -> str:
    """A file name as UTF-8 text: bytes that are not UTF-8 (which ``os`` hands over as
    surrogate escapes) shown as ``\\xNN``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class FileEntry:
    """One regular file of a repository as its listing found it."""

    relative: str  # POSIX path from the repository root
    size: int
    version: str  # changes when the content does: mtime on disk, the blob id in git


@dataclass(frozen=True)
class Listing:
    """What a walk of a repository found: its regular files in sorted order, and the entries
    it could not use (``(relative path, reason)``: ``unreadable_dir``, ``unreadable_name``
    shown escaped, ``unreadable`` when the file could not be stat'ed), and when the repository
    last changed, in seconds since the epoch (0: unknown): dedup keeps the newest copy of a
    near-duplicate repository by it."""

    files: tuple[FileEntry, ...]
    problems: tuple[tuple[str, str], ...]
    last_change: int = 0


class RepoSource(Protocol):
    """What the pipeline reads a repository through: a listing, then the files' bytes."""

    @property
    def name(self) -> str:
        """The repository's id in the corpus (read-only: sources are frozen dataclasses)."""
        ...

    def listing(self) -> Listing: ...

    def contents(self, entries: Sequence[FileEntry]) -> Iterator[bytes | None]:
        """The bytes of each entry in order; None for one that could not be read."""
        ...

    def describe(self) -> dict[str, str]:
        """Where it was read from (kind, location, commit where known), for OUT/inputs."""
        ...

    def stars(self) -> int | None:
        """Its stars, which ``dedup_keep = "stars"`` ranks by; None: the source has none."""
        ...

    def license(self) -> str | None:
        """Its license as the input names it; None: the source does not say."""
        ...


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
        for entry in self.listing().files:
            if max_file_bytes is None or entry.size <= max_file_bytes:
                yield self.root / entry.relative

    def contents(self, entries: Sequence[FileEntry]) -> Iterator[bytes | None]:
        for entry in entries:
            try:
                yield (self.root / entry.relative).read_bytes()
            except OSError:  # permissions, or the file vanished since the listing
                yield None

    def describe(self) -> dict[str, str]:
        return {"kind": "directory", "location": shown_name(str(self.root)), "commit": ""}

    def stars(self) -> int | None:
        return None

    def license(self) -> str | None:
        return None

    def listing(self) -> Listing:
        """Walk the repository (symlinks and the trees of ``SKIP_DIRS`` skipped); its last
        change is the newest modification time of its files (a copy made without preserving
        times looks new)."""
        files: list[FileEntry] = []
        problems: list[tuple[str, str]] = []
        for dirpath, names in self._directories(problems):
            for name in sorted(names):
                path = Path(dirpath, name)
                relative = path.relative_to(self.root).as_posix()
                if not _is_utf8(relative):
                    problems.append((shown_name(relative), "unreadable_name"))
                    continue
                try:
                    st = path.lstat()
                except OSError:
                    problems.append((relative, "unreadable"))
                    continue
                if stat.S_ISREG(st.st_mode):
                    files.append(FileEntry(relative, st.st_size, str(st.st_mtime_ns)))
        newest = max((int(f.version) // 10**9 for f in files), default=0)
        return Listing(tuple(files), tuple(problems), newest)

    def _directories(self, problems: list[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
        """Each directory of the walk with the names of its non-directory entries; directories
        that cannot be listed go to ``problems``."""

        def unreadable(err: OSError) -> None:
            where = Path(err.filename or self.root)
            relative = where.relative_to(self.root).as_posix() if where != self.root else "."
            problems.append((shown_name(relative), "unreadable_dir"))

        if self.flat:
            try:
                entries = list(os.scandir(self.root))
            except OSError as err:
                unreadable(err)
                return
            yield str(self.root), [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
            return
        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            yield dirpath, filenames


def stdlib_repositories() -> list[Repository]:
    """The standard library: each top-level package a repository, loose modules one more."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    repos = [Repository("stdlib", stdlib, flat=True)]
    for child in sorted(stdlib.iterdir()):
        if child.is_dir() and child.name not in SKIP_DIRS | {"site-packages"}:
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
        and child.name not in SKIP_DIRS
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
    repos: Iterable[RepoSource],
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
    repos: Iterable[RepoSource],
    *,
    max_bytes: int | None = None,
    max_file_bytes: int = 8 << 20,
    suffixes: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`read_repositories`, and what it did not read (``SKIPPED_SCHEMA``), so that
    nothing is lost silently: ``too_large`` (over ``max_file_bytes``, never read),
    ``unreadable`` (an error while reading, e.g. permissions or a file that vanished),
    ``unreadable_name`` (a file name that is not UTF-8, shown escaped) and ``unreadable_dir``
    (a directory that could not be listed)."""
    files = [pl.DataFrame(schema=FILE_SCHEMA)]
    skipped = [pl.DataFrame(schema=SKIPPED_SCHEMA)]
    total = 0
    for repo in repos:
        if max_bytes is not None and total >= max_bytes:
            break
        wanted, not_wanted = _wanted(repo, max_file_bytes, suffixes)
        read, unreadable = _read(repo, wanted)
        files.append(read)
        skipped += [not_wanted, unreadable]
        total += int(read["raw"].bin.size().sum() or 0)
    return pl.concat(files), pl.concat(skipped)


def read_in_batches(
    repo: RepoSource, *, batch_bytes: int, max_file_bytes: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """One repository read as consecutive batches of files of about ``batch_bytes`` at most
    (by their listed sizes; a larger file is a batch of its own), so that a repository of any
    size is never held whole: each batch's files (``FILE_SCHEMA``) and what it did not read
    (``SKIPPED_SCHEMA``; the walk's problems and the files over ``max_file_bytes`` come with
    the first batch). Concatenated, the batches are :func:`read_repositories_and_skips` of
    the repository. A repository with nothing to read is one batch without files."""
    wanted, not_wanted = _wanted(repo, max_file_bytes, None)
    batches = _batches(wanted, batch_bytes) or [[]]
    for i, entries in enumerate(batches):
        files, unreadable = _read(repo, entries)
        yield files, (pl.concat([not_wanted, unreadable]) if i == 0 else unreadable)


def _batches(entries: Sequence[FileEntry], batch_bytes: int) -> list[list[FileEntry]]:
    """``entries`` cut, in order, into runs of at most ``batch_bytes`` (each run at least one
    entry)."""
    batches: list[list[FileEntry]] = []
    size = 0
    for entry in entries:
        if not batches or size + entry.size > batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry.size
    return batches


def _wanted(
    repo: RepoSource, max_file_bytes: int, suffixes: tuple[str, ...] | None
) -> tuple[list[FileEntry], pl.DataFrame]:
    """The files of ``repo``'s listing to read, and the entries not to (``SKIPPED_SCHEMA``):
    the walk's problems, then the files over ``max_file_bytes``."""
    listing = repo.listing()
    skipped = [(repo.name, path, reason, 0) for path, reason in listing.problems]
    wanted = []
    for entry in listing.files:
        if suffixes is not None and not entry.relative.endswith(suffixes):
            continue
        if entry.size > max_file_bytes:
            skipped.append((repo.name, entry.relative, "too_large", entry.size))
            continue
        wanted.append(entry)
    return wanted, pl.DataFrame(skipped, schema=SKIPPED_SCHEMA, orient="row")


def _read(repo: RepoSource, entries: Sequence[FileEntry]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The bytes of ``entries`` (``FILE_SCHEMA``), and those that could not be read
    (``SKIPPED_SCHEMA``, reason ``unreadable``)."""
    paths: list[str] = []
    raws: list[bytes] = []
    unreadable: list[tuple[str, str, str, int]] = []
    for entry, data in zip(entries, repo.contents(entries), strict=True):
        if data is None:
            unreadable.append((repo.name, entry.relative, "unreadable", entry.size))
            continue
        paths.append(entry.relative)
        raws.append(data)
    names = [repo.name] * len(paths)
    files = pl.DataFrame({"repo": names, "path": paths, "raw": raws}, schema=FILE_SCHEMA)
    return files, pl.DataFrame(unreadable, schema=SKIPPED_SCHEMA, orient="row")
