"""Wrapping a command line in the isolation tools of the machine.

Three modes, strongest first (evals/README.md states exactly what each gives):

- ``bwrap``: bubblewrap with fresh pid, network, ipc and uts namespaces; only the system
  directories (``/usr``, ``/etc``, ``/lib*``, ``/bin``, ``/sbin``), the Python installation and this
  package are visible, read-only: no host ``/tmp``, ``/run``, ``/var``, ``/home``, ``/root``, so no
  host unix socket and no benchmark data; benchmark answers under a visible path are masked; a
  fresh ``/proc``; the sandbox dies with the harness. The fork server keeps the capabilities to
  mount (and, as root, to change uid): every program gets a fresh ``/tmp`` (its ``HOME``) in a mount
  namespace of its own, and runs unprivileged.
- ``unshare``: util-linux ``unshare`` with fresh pid and network namespaces only.
- ``rlimits``: no namespaces; resource limits, process groups and a scrubbed environment only.

The weaker two must be asked for with ``allow_weak`` (``--i-understand-no-isolation``): ``auto``
means bubblewrap or an error, never a silent downgrade.

What is wrapped is the fork server of dsc_evals/forkserver.py, which sets the per-program limits
(CPU, address space, open files, file size) on each child. Every mode adds ``prlimit`` (open files,
file size, processes, no core dumps) and the scrubbed environment :data:`SANDBOX_ENV`; as root,
programs run as an unprivileged uid of the slot's own, so that ``RLIMIT_NPROC`` applies (the kernel
exempts uid 0 from it) and root-only files stay unreadable (``setpriv`` on the server in the weak
modes, the server itself under bubblewrap).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dsc_evals.config import MIB, Isolation, Limits

# The fork server's root inside the bubblewrap sandbox (on its private /tmp, which programs never
# see: each has a fresh /tmp of its own).
BWRAP_ROOT = "/tmp/sandbox"
# What a bubblewrap sandbox sees of the host, read-only (symbolic links are recreated as links).
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the server needs to give each program a fresh /tmp and an unprivileged uid; programs get
# none of them.
SERVER_CAPS = ("CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN")

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

DESCRIPTIONS = {
    Isolation.BWRAP: "bubblewrap: no network; own pid, ipc, uts and mount namespaces; only system"
    " directories visible, read-only; a fresh /tmp (= HOME) per program",
    Isolation.UNSHARE: "unshare: no network, own pid namespace; NO file-system isolation",
    Isolation.RLIMITS: "rlimits: resource limits only; NO network or file-system isolation",
}
WEAK_FLAG = "--i-understand-no-isolation"


@dataclass(frozen=True)
class Sandbox:
    """A resolved isolation mode plus the unprivileged identity programs run under."""

    mode: Isolation
    python: str  # the interpreter of the fork server (and of the Python programs)
    uid: int | None  # host uid programs run as (root only); None keeps the harness's uid
    nproc_offset: int = 0  # processes the sandbox uid already has (non-root: the user's own)
    hidden: tuple[Path, ...] = ()  # benchmark answers: masked where a bwrap sandbox could see them

    def wrap(self, argv: list[str], limits: Limits) -> list[str]:
        """The full command line running ``argv`` isolated and limited.

        CPU time and address space are left to the fork server, which sets them on each child.
        """
        limited = [*self._prlimit(limits), "--", *argv]
        if self.mode is Isolation.BWRAP:
            return [*self._bwrap(), "--", *limited]
        if self.uid is not None:
            limited = [
                *("setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"),
                "--",
                *limited,
            ]
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

    def server_args(self, limits: Limits) -> list[str]:
        """Arguments of the fork server: under bubblewrap, the uid programs run as and the size of
        the fresh /tmp each gets (see dsc_evals/forkserver.py)."""
        if self.mode is not Isolation.BWRAP:
            return []
        uid = self.uid if self.uid is not None else os.getuid()
        return ["--fresh-tmp", str(uid), str(limits.tmp_size_mib * MIB)]

    def _prlimit(self, limits: Limits) -> list[str]:
        return [
            "prlimit",
            f"--nofile={limits.open_files}",
            f"--fsize={limits.file_size_mib * MIB}",
            f"--nproc={limits.processes + self.nproc_offset}",
            "--core=0",
        ]

    def _bwrap(self) -> list[str]:
        args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if os.geteuid() != 0:
            args.append("--unshare-user")
        args += ["--cap-drop", "ALL"]
        for cap in SERVER_CAPS:
            args += ["--cap-add", cap]
        visible = [Path(d) for d in SYSTEM_DIRS]
        for directory in SYSTEM_DIRS:
            path = Path(directory)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), directory]
            elif path.is_dir():
                args += ["--ro-bind", directory, directory]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for path in sorted(_needed_paths(self.python)):
            if not _under(path, visible):
                args += _bind_back(path)
                visible.append(path)
        for path in self.hidden:
            args += _mask(path.resolve(), visible)
        return [*args, "--perms", "0700", "--dir", BWRAP_ROOT, "--chdir", BWRAP_ROOT]


def _needed_paths(python: str) -> set[Path]:
    """What the sandbox must still see: the Python installation (a venv's and the one it points
    to) and this package (the fork server)."""
    needed = {Path(python).absolute().parent.parent, Path(python).resolve().parent.parent}
    paths = {path.resolve() for path in needed} | {Path(__file__).resolve().parent}
    below_tmp = sorted(p for p in paths if _under(p, [Path("/tmp").resolve()]))
    if below_tmp:
        raise ValueError(
            f"{below_tmp[0]} is under /tmp, which bubblewrap replaces by a fresh one for every"
            " program: install the Python or the package elsewhere, or pass --python"
        )
    return paths


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _bind_back(path: Path) -> list[str]:
    """Bind ``path`` read-only; the directories above it are made world-readable (bwrap would
    create them 0700, unreadable to the unprivileged uid of the programs)."""
    args: list[str] = []
    for directory in reversed(path.parents):
        if directory != Path("/"):
            args += ["--perms", "0755", "--dir", str(directory)]
    return [*args, "--ro-bind", str(path), str(path)]


def _mask(path: Path, visible: list[Path]) -> list[str]:
    """Hide ``path`` (benchmark answers) when it lies under what the sandbox sees."""
    if not _under(path, visible):
        return []  # not bound into the sandbox at all
    if path.is_dir():
        return ["--perms", "0000", "--tmpfs", str(path)]
    if path.exists():
        return ["--ro-bind", "/dev/null", str(path)]
    return []


def _uid_for(slot: int, uid_base: int) -> int | None:
    return uid_base + slot if os.geteuid() == 0 else None


UID_RANGE = 1024  # uids searched from the base for free ones (config caps the base to fit)
UID_LOCKS = Path(tempfile.gettempdir()) / "dsc-evals-uids"


def reserve_uids(uid_base: int, count: int) -> tuple[int, list[int]]:
    """As root, ``count`` consecutive sandbox uids from ``uid_base`` on that no other engine (of
    this process or another) holds and no process runs as: the first of them and the locks that
    hold them (closing the descriptors frees them). Without root: ``uid_base`` and no locks.

    A slot's uid must be its own: the harness SIGKILLs every process of it when the slot closes,
    and ``RLIMIT_NPROC`` counts per uid, so two engines sharing one would kill and starve each
    other's programs."""
    if os.geteuid() != 0:
        return uid_base, []
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    busy = _uids_with_processes()
    for first in range(uid_base, uid_base + UID_RANGE - count + 1):
        locks: list[int] = []
        for uid in range(first, first + count):
            if uid in busy or not _lock(UID_LOCKS / str(uid), locks):
                break
        if len(locks) == count:
            return first, locks
        for fd in locks:
            os.close(fd)
    raise RuntimeError(f"no {count} free sandbox uids from {uid_base} on (see {UID_LOCKS})")


def _lock(path: Path, locks: list[int]) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: holds within a process too
    except OSError:
        os.close(fd)
        return False
    locks.append(fd)
    return True


def _uids_with_processes() -> set[int]:
    uids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                uids.add(entry.stat().st_uid)
    return uids


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


def make_sandbox(
    mode: Isolation, slot: int, uid_base: int, python: str, hidden: tuple[Path, ...] = ()
) -> Sandbox:
    """The sandbox of parallel slot ``slot`` (each slot its own uid, so its own NPROC budget)."""
    uid = _uid_for(slot, uid_base)
    offset = 0 if uid is not None else _user_process_count()
    return Sandbox(mode=mode, python=python, uid=uid, nproc_offset=offset, hidden=hidden)


def probe(mode: Isolation, uid_base: int, python: str) -> str | None:
    """Run ``python`` under ``mode``; None when it works, else why it does not."""
    try:
        sandbox = make_sandbox(mode, 0, uid_base, python)
        argv = sandbox.wrap([python, "-I", "-c", "pass"], Limits())
        done = subprocess.run(
            argv, env=SANDBOX_ENV, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return f"{mode.value}: {exc}"
    if done.returncode != 0:
        return f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}"
    return None


def resolve_isolation(
    requested: Isolation, allow_weak: bool, uid_base: int, python: str
) -> Isolation:
    """The mode to use: ``auto`` is bubblewrap; the weaker modes only when asked for by name and
    acknowledged (``allow_weak``). A mode that does not work is an error, never a downgrade."""
    if requested in (Isolation.UNSHARE, Isolation.RLIMITS) and not allow_weak:
        raise ValueError(
            f"--isolation {requested.value} gives {DESCRIPTIONS[requested].split(': ', 1)[1]};"
            f" add {WEAK_FLAG} to run untrusted programs that way"
        )
    mode = Isolation.BWRAP if requested is Isolation.AUTO else requested
    problem = probe(mode, uid_base, python)
    if problem is None:
        return mode
    if requested is Isolation.AUTO:
        raise RuntimeError(
            f"--isolation auto needs bubblewrap, which does not work here: {problem}. Without it"
            " programs get no file-system isolation (Debian: apt-get install bubblewrap; it needs"
            " root or unprivileged user namespaces). To run anyway, knowingly:"
            f" --isolation unshare {WEAK_FLAG} (no network, no file-system isolation) or"
            f" --isolation rlimits {WEAK_FLAG} (no network or file-system isolation)"
        )
    raise RuntimeError(f"isolation mode {mode.value!r} does not work here: {problem}")
