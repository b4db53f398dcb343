"""Wrapping a command line in the isolation tools of the machine.

Three modes, strongest first (evals/README.md states exactly what each gives):

- ``bwrap``: bubblewrap with fresh pid, network, ipc and uts namespaces, the whole file system
  read-only, a private size-limited ``/tmp``, the harness's home directory hidden, a fresh
  ``/proc``; the sandbox dies with the harness.
- ``unshare``: util-linux ``unshare`` with fresh pid and network namespaces.
- ``rlimits``: no namespaces; resource limits, process groups and a scrubbed environment only.

What is wrapped is the fork server of dsc_evals/forkserver.py, which sets the per-program limits
(CPU, address space, open files, file size) on each child. Every mode adds ``prlimit`` (open files,
file size, processes, no core dumps), the scrubbed environment :data:`SANDBOX_ENV` and, as root,
``setpriv`` to an unprivileged uid of the slot's own, so that ``RLIMIT_NPROC`` applies (the kernel
exempts uid 0 from it) and root-only files stay unreadable.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dsc_evals.config import MIB, Isolation, Limits

# The fork server's root inside the bubblewrap sandbox (on its private /tmp).
BWRAP_ROOT = "/tmp/sandbox"

# The only variables a sandboxed program sees: nothing of the harness's environment leaks in.
SANDBOX_ENV: dict[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


@dataclass(frozen=True)
class Sandbox:
    """A resolved isolation mode plus the unprivileged identity programs run under."""

    mode: Isolation
    python: str  # the interpreter of the fork server (and of the Python programs)
    uid: int | None  # host uid programs run as (root only); None keeps the harness's uid
    nproc_offset: int = 0  # processes the sandbox uid already has (non-root: the user's own)

    def wrap(self, argv: list[str], limits: Limits) -> list[str]:
        """The full command line running ``argv`` isolated and limited.

        CPU time and address space are left to the fork server, which sets them on each child.
        """
        limited = [*self._prlimit(limits), "--", *argv]
        if self.uid is not None:
            limited = [
                *("setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"),
                "--",
                *limited,
            ]
        if self.mode is Isolation.BWRAP:
            return [*self._bwrap(limits), "--", *limited]
        if self.mode is Isolation.UNSHARE:
            user = [] if os.geteuid() == 0 else ["--map-root-user"]
            return [
                "unshare",
                *user,
                "--net",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                *limited,
            ]
        return limited

    def _prlimit(self, limits: Limits) -> list[str]:
        return [
            "prlimit",
            f"--nofile={limits.open_files}",
            f"--fsize={limits.file_size_mib * MIB}",
            f"--nproc={limits.processes + self.nproc_offset}",
            "--core=0",
        ]

    def _bwrap(self, limits: Limits) -> list[str]:
        args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if os.geteuid() != 0:
            args.append("--unshare-user")
        args += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(limits.tmp_size_mib * MIB), "--tmpfs", "/tmp"]
        needed = _needed_paths(self.python)
        args += _give_back(needed, Path("/tmp").resolve())
        # The fork server empties its root between programs: a directory of its own, so the
        # checkout bound back above (when it lives under /tmp) is never part of it.
        args += ["--perms", "1777", "--dir", BWRAP_ROOT]
        return [*args, *_hide_home(needed), "--chdir", BWRAP_ROOT]


def _needed_paths(python: str) -> set[Path]:
    """What the sandbox must still see: the Python installation (a venv's and the one it points
    to) and this package (the fork server)."""
    needed = {Path(python).absolute().parent.parent, Path(python).resolve().parent.parent}
    return {path.resolve() for path in needed} | {Path(__file__).resolve().parent}


def _hide_home(needed: set[Path]) -> list[str]:
    """Mount an empty tmpfs over the harness's home, giving back (read-only) the ``needed``
    paths that live there (pyenv's Python does), so the sandbox uid can still run Python."""
    home = Path(os.environ.get("HOME", "/")).resolve()
    if home == Path("/") or not home.is_dir():
        return []
    return ["--perms", "0755", "--tmpfs", str(home), *_give_back(needed, home)]


def _give_back(needed: set[Path], hidden: Path) -> list[str]:
    """Bind back, read-only, the ``needed`` paths under ``hidden`` (a directory a tmpfs hides:
    a checkout or venv under /tmp, an interpreter under the home directory)."""
    args: list[str] = []
    for path in sorted(needed):
        if path != hidden and hidden in path.parents:
            # bwrap would create the directories in between as 0700, unreadable to the sandbox uid.
            between = [p for p in reversed(path.parents) if hidden in p.parents]
            for directory in between:
                args += ["--perms", "0755", "--dir", str(directory)]
            args += ["--ro-bind", str(path), str(path)]
    return args


def _uid_for(slot: int, uid_base: int) -> int | None:
    return uid_base + slot if os.geteuid() == 0 else None


def _user_process_count() -> int:
    """Processes of the current user: RLIMIT_NPROC counts them too when we cannot change uid."""
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


def make_sandbox(mode: Isolation, slot: int, uid_base: int, python: str) -> Sandbox:
    """The sandbox of parallel slot ``slot`` (each slot its own uid, so its own NPROC budget)."""
    uid = _uid_for(slot, uid_base)
    offset = 0 if uid is not None else _user_process_count()
    return Sandbox(mode=mode, python=python, uid=uid, nproc_offset=offset)


def probe(mode: Isolation, uid_base: int, python: str) -> str | None:
    """Run ``python`` under ``mode``; None when it works, else why it does not."""
    sandbox = make_sandbox(mode, 0, uid_base, python)
    argv = sandbox.wrap([python, "-I", "-c", "pass"], Limits())
    try:
        done = subprocess.run(
            argv, env=SANDBOX_ENV, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{argv[0]}: {exc}"
    if done.returncode != 0:
        return f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}"
    return None


def resolve_isolation(
    requested: Isolation, uid_base: int, python: str
) -> tuple[Isolation, list[str]]:
    """The mode to use and, for ``auto``, why stronger modes were passed over.

    An explicitly requested mode that does not work is an error, never a silent downgrade.
    """
    if requested is not Isolation.AUTO:
        problem = probe(requested, uid_base, python)
        if problem is not None:
            raise RuntimeError(f"isolation mode {requested.value!r} does not work here: {problem}")
        return requested, []
    notes: list[str] = []
    for mode in (Isolation.BWRAP, Isolation.UNSHARE):
        problem = probe(mode, uid_base, python)
        if problem is None:
            return mode, notes
        notes.append(f"{mode.value} unavailable: {problem}")
    return Isolation.RLIMITS, notes
