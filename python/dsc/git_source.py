"""Git repositories as input: the tree of a ref, read from the object database.

Nothing is checked out: ``git ls-tree`` lists the ref's tree (paths, sizes, blob ids) and one
``git cat-file --batch`` process streams the blobs. A work tree's uncommitted edits are
therefore not read; a bare repository reads the same as its clone. The blob id is each file's
version in the shard key, so a resumed run redoes a repository exactly when its content at
the ref changed. We call the ``git`` command itself rather than a library: it is on every
machine that has repositories, reads every object format and packfile git writes, and needs
no build (pygit2 needs libgit2; dulwich is slow on large packs).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dsc.sources import SKIP_DIRS, FileEntry, Listing, shown_name

_REGULAR_MODES = (b"100644", b"100755")  # symlinks (120000) and submodules (160000) skipped


def is_git_repository(path: Path) -> bool:
    """A work tree (with ``.git``) or a bare repository."""
    bare = (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()
    return (path / ".git").exists() or bare


@dataclass(frozen=True)
class GitRepository:
    """The tree of ``ref`` in the git repository at ``path``: ``name`` is its id in the corpus."""

    name: str
    path: Path
    ref: str = "HEAD"

    def _git(self, *args: str) -> bytes:
        done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True)
        if done.returncode != 0:
            raise GitError(done.stderr.decode(errors="replace").strip())
        return done.stdout

    @cached_property
    def commit(self) -> str | None:
        """The commit ``ref`` names, or None (an empty repository, a missing ref)."""
        try:
            return (
                self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
                .decode()
                .strip()
            )
        except GitError:
            return None

    def listing(self) -> Listing:
        if self.commit is None:
            return Listing((), ((".", "unreadable_ref"),))
        out = self._git("ls-tree", "-r", "-l", "-z", "--full-tree", self.commit)
        files: list[FileEntry] = []
        problems: list[tuple[str, str]] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, blob, size = meta.split()
            if kind != b"blob" or mode not in _REGULAR_MODES:
                continue
            try:
                relative = raw_path.decode()
            except UnicodeDecodeError:
                problems.append(
                    (shown_name(raw_path.decode(errors="surrogateescape")), "unreadable_name")
                )
                continue
            if SKIP_DIRS.intersection(relative.split("/")[:-1]):
                continue
            files.append(FileEntry(relative, int(size), blob.decode()))
        files.sort(key=lambda f: f.relative)
        # The committer date: part of the commit, so the same on every clone, unlike file times.
        committed = int(self._git("show", "-s", "--format=%ct", self.commit).decode().strip())
        return Listing(tuple(files), tuple(problems), committed)

    def contents(self, entries: Sequence[FileEntry]) -> Iterator[bytes | None]:
        if not entries:
            return
        command = ["git", "-C", str(self.path), "cat-file", "--batch"]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            for entry in entries:
                proc.stdin.write(entry.version.encode() + b"\n")
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) != 3:  # "<id> missing": the object went away
                    yield None
                    continue
                data = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)  # the newline after each object
                yield data
            proc.stdin.close()

    def describe(self) -> dict[str, str]:
        location = shown_name(f"{self.path}@{self.ref}")
        return {"kind": "git", "location": location, "commit": self.commit or ""}

    def stars(self) -> int | None:
        return None

    def license(self) -> str | None:
        return None


class GitError(RuntimeError):
    pass
