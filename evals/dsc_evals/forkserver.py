"""The sandboxed supervisor: runs inside the sandbox and forks one child per program step.

Started by path (``python -I forkserver.py ROOT [--fresh-tmp UID BYTES]``) so that it imports only
the standard library; ROOT is the directory it may use (under bubblewrap on a private tmpfs).

With ``--fresh-tmp`` (under bubblewrap, where the server keeps the capabilities to mount and change
uid) every program runs in a mount namespace of its own with a fresh, empty tmpfs of BYTES on
``/tmp`` (its HOME) and ``/dev/shm``, as uid UID with no capabilities: nothing a program writes,
fills or leaves there reaches the next one, and the server's own files are out of its sight. The
namespace, and with it the tmpfs, is gone once the program's processes are.
One JSON request per line on stdin, one JSON reply per line on stdout::

    request: {"id", "files": {name: text}, "tail", "steps": [step, ...]}
    step:    {"python": source} or {"argv": [...], "env": {...}},
             plus {"wall_s", "cpu_s", "as_bytes", "nofile", "fsize", "failure_marker",
                   "end_marker", "rss_budget"}
    reply:   {"id", "steps": [{"timed_out", "returncode", "stdout", "stderr", "marker_seen",
                               "end_seen", "memory_exceeded", "leftovers", "seconds"}, ...]}
             (timed_out: wall clock or CPU; end_seen: the end marker was in stdout; it is cut
             out of both tails; memory_exceeded: the resident memory of the program's processes,
             polled every 20 ms when rss_budget > 0, went over it and all were killed)

The files are written to a fresh work directory and the steps (e.g. compile, then run) run in it in
order, stopping after the first that does not exit 0. A Python step runs in a fork of this warm
interpreter, which is what makes Python samples cheap; other steps exec their command line.

Each child: its own session and process group, CPU/address-space/open-file/file-size limits, stdin
from /dev/null, stdout/stderr to files, every other descriptor closed (it cannot reach the protocol
pipes). The server is non-dumpable, so a child of the same uid cannot ptrace it or write its
memory, and a child subreaper, so everything a program starts stays its descendant: after each
step it kills and counts whatever is left (even processes that called ``setsid`` or
double-forked); after each request it empties ROOT.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CLONE_NEWNS = 0x20000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SWEEP_ROUNDS = 100  # a fork bomb's survivors re-parent to the server; each round kills them
FORK_RETRIES = 40  # times 50 ms
MEMORY_POLL_S = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
LIBC = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class FreshTmp:
    """Per-program mount namespaces: the programs' uid, their /tmp size, the server's namespace."""

    uid: int
    size: int
    server_ns: int  # an fd of the server's own mount namespace, to return to after a program


def _libc(name: str, *args: Any) -> None:
    if getattr(LIBC, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args}: {os.strerror(errno)}")


def _prctl(option: int, value: int) -> None:
    _libc("prctl", option, value, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]


def _drop_privileges(uid: int) -> None:
    """In the forked child: become ``uid`` with no capability and no way to gain one back."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # leaving uid 0 clears every capability
    # Without root (a user namespace) the uid stays; the capabilities are cleared explicitly.
    _libc("capset", ctypes.byref(_CapHeader(LINUX_CAPABILITY_VERSION_3, 0)), (_CapData * 2)())
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _enter_fresh_tmp(fresh: FreshTmp) -> Path:
    """A new mount namespace for this server with an empty tmpfs on /tmp and /dev/shm; returns
    the program's work directory (/tmp/work, given to the program's uid once its files are in)."""
    _libc("unshare", CLONE_NEWNS)
    _libc("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)  # nothing propagates back
    options = f"size={fresh.size},mode=1777".encode()
    for target in (b"/tmp", b"/dev/shm"):
        if os.path.isdir(target):
            _libc("mount", b"tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV, options)
    workdir = Path("/tmp/work")
    workdir.mkdir(mode=0o700)
    return workdir


def _leave_fresh_tmp(fresh: FreshTmp) -> None:
    """Back to the server's namespace; the program's one, with its tmpfs, ends with it."""
    _libc("setns", fresh.server_ns, CLONE_NEWNS)
    os.chdir("/")


def _confine(step: dict[str, Any], out: int, err: int) -> None:
    """In the forked child: own session, limits, and only stdin/stdout/stderr open."""
    os.setsid()
    # SIGXCPU at the soft limit; the hard limit's SIGKILL a second later if it is caught.
    resource.setrlimit(resource.RLIMIT_CPU, (step["cpu_s"], step["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (step["as_bytes"], step["as_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (step["nofile"], step["nofile"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (step["fsize"], step["fsize"]))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.closerange(3, 65536)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _exec_python(source: str) -> int:
    """Run a Python program in this (forked) interpreter; returns its exit status."""
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.argv = ["program.py"]
    try:
        exec(
            compile(source, "program.py", "exec"),
            {"__name__": "__main__", "__builtins__": builtins},
        )
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        # Drop this function's own frame: the trace starts at the program.
        traceback.print_exception(type(exc), exc, exc.__traceback__ and exc.__traceback__.tb_next)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _run_child(step: dict[str, Any], workdir: Path, out: int, err: int, uid: int | None) -> None:
    """In the forked child: confine, drop to ``uid`` (with --fresh-tmp), run the step; never
    returns."""
    status = 1
    try:
        _confine(step, out, err)
        if uid is not None:
            _drop_privileges(uid)
        os.chdir(workdir)  # after the drop: the server has no CAP_DAC_OVERRIDE to enter it
        if "python" in step:
            status = _exec_python(step["python"])
        else:
            os.execvpe(step["argv"][0], step["argv"], {**os.environ, **step["env"]})
    except BaseException as exc:
        os.write(2, f"{type(exc).__name__}: {exc}\n".encode())
    os._exit(status & 0xFF)


def _fork() -> int:
    """fork(), retried for a while: without root every slot shares the user's process budget,
    so another slot's fork bomb (being killed) can hold it for a moment."""
    for _ in range(FORK_RETRIES):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.05)
    return os.fork()


def _wait(pid: int, wall_s: float, rss_budget: int) -> tuple[int, bool, bool, float]:
    """Wait for the child; SIGKILL its processes at the deadline or when their resident memory
    goes over ``rss_budget`` (0: not polled).

    Returns (wait status, timed out, memory exceeded, CPU seconds the child used).
    """
    pidfd = os.pidfd_open(pid)
    deadline = time.monotonic() + wall_s
    exceeded = False
    try:
        while True:
            left = max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select(
                [pidfd], [], [], min(left, MEMORY_POLL_S) if rss_budget else left
            )
            if ready or time.monotonic() >= deadline:
                break
            if rss_budget and _resident(_descendants(os.getpid())) > rss_budget:
                exceeded = True
                break
        timed_out = not ready and not exceeded
        if not ready:
            _kill_group(pid)
            if exceeded:  # at once, so that the sweep does not count them as leftovers
                for other in _descendants(os.getpid()):
                    with contextlib.suppress(OSError):
                        os.kill(other, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        return status, timed_out, exceeded, usage.ru_utime + usage.ru_stime
    finally:
        os.close(pidfd)


def _resident(pids: list[int]) -> int:
    """Resident bytes of ``pids`` together (shared pages counted in each: an overestimate)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def _hit_cpu_limit(status: int, cpu_used: float, cpu_s: int) -> bool:
    # rusage can read a hair under the limit that the kernel enforced with SIGXCPU.
    signalled = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU
    return signalled or cpu_used >= cpu_s


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _sweep(child: int) -> int:
    """Kill what the program left running; returns how many processes were still alive.

    The server is a child subreaper, so every process the program started, even one that left
    the process group with ``setsid`` or double-forked, is a descendant of the server.
    """
    alive: set[int] = set()
    for _ in range(SWEEP_ROUNDS):
        found = _descendants(os.getpid())  # counted before killing, so none is missed as dying
        _kill_group(child)
        if not found:
            break
        alive.update(found)
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.001)
    _reap()
    return len(alive)


def _descendants(pid: int) -> list[int]:
    """Live (not zombie) descendants of ``pid``."""
    found = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
                pending.append(int(child))
                with contextlib.suppress(OSError, IndexError):
                    state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state not in ("Z", "X"):
                        found.append(int(child))
    return found


def _reap() -> None:
    """Collect every exited child, including orphans re-parented to this subreaper."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass


def _empty(root: Path) -> None:
    """Delete everything under ``root``, even directories the program made unreadable."""
    with contextlib.suppress(PermissionError):  # a private tmpfs root is not ours to chmod
        root.chmod(0o700)
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):  # a program's symlink must not redirect the chmod
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o700)
    for entry in root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _tail(logs: int, name: str, size: int, failure: bytes, end: bytes) -> tuple[str, bool, bool]:
    """The last ``size`` bytes of output file ``name`` in directory fd ``logs`` (the ``end``
    marker cut out) and whether the ``failure`` and ``end`` markers occur anywhere in it."""
    try:
        fd = os.open(name, os.O_RDONLY, dir_fd=logs)
        with open(fd, "rb") as log:
            data = log.read()  # at most RLIMIT_FSIZE bytes
    except OSError:
        data = b""
    end_seen = bool(end) and end in data
    if end_seen:
        data = data.replace(end + b"\n", b"").replace(end, b"")
    text = data[len(data) - size :].decode("utf-8", errors="replace")
    return text, bool(failure) and failure in data, end_seen


def _run_step(
    step: dict[str, Any], workdir: Path, logs: int, tail: int, uid: int | None
) -> dict[str, Any]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    out = os.open("stdout", flags, 0o600, dir_fd=logs)
    err = os.open("stderr", flags, 0o600, dir_fd=logs)
    start = time.monotonic()
    pid = _fork()
    if pid == 0:
        _run_child(step, workdir, out, err, uid)
    os.close(out)
    os.close(err)
    status, timed_out, exceeded, cpu_used = _wait(pid, step["wall_s"], step["rss_budget"])
    seconds = time.monotonic() - start
    failure, end = step["failure_marker"].encode(), step["end_marker"].encode()
    stdout, out_failure, end_seen = _tail(logs, "stdout", tail, failure, end)
    stderr, err_failure, _ = _tail(logs, "stderr", tail, failure, end)  # cut from both
    return {
        "timed_out": timed_out or _hit_cpu_limit(status, cpu_used, step["cpu_s"]),
        "returncode": os.waitstatus_to_exitcode(status),
        "leftovers": _sweep(pid),
        "stdout": stdout,
        "stderr": stderr,
        "marker_seen": out_failure or err_failure,
        "end_seen": end_seen,
        "memory_exceeded": exceeded,
        "seconds": seconds,
    }


def serve_one(request: dict[str, Any], root: Path, fresh: FreshTmp | None) -> dict[str, Any]:
    """Write the request's files, run its steps until one fails, and report each step."""
    (root / "logs").mkdir(mode=0o700)
    # Opened before a fresh /tmp hides ROOT: the logs stay the server's, out of the program's sight.
    logs = os.open(root / "logs", os.O_RDONLY | os.O_DIRECTORY)
    uid = None if fresh is None else fresh.uid
    try:
        if fresh is None:
            workdir = root / "work"
            workdir.mkdir(mode=0o700)
        else:
            workdir = _enter_fresh_tmp(fresh)
        for name, text in request["files"].items():
            (workdir / name).write_text(text, encoding="utf-8")
            if uid is not None:
                os.chown(workdir / name, uid, uid)
        if uid is not None:
            os.chown(workdir, uid, uid)
        results = []
        for step in request["steps"]:
            result = _run_step(step, workdir, logs, request["tail"], uid)
            results.append(result)
            if result["timed_out"] or result["returncode"] != 0 or result["leftovers"]:
                break
    finally:
        os.close(logs)
        if fresh is not None:
            _leave_fresh_tmp(fresh)
        _empty(root)
    return {"id": request["id"], "steps": results}


def _leave_pid_1() -> None:
    """Under ``unshare --pid`` the server starts as the namespace's init, which its programs could
    not signal; it forks and serves from the child, the init only waiting (as under bubblewrap)."""
    if os.getpid() != 1:
        return
    server = os.fork()
    if server != 0:
        _, status = os.waitpid(server, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def main() -> None:
    root = Path(sys.argv[1])
    fresh = None
    if sys.argv[2:3] == ["--fresh-tmp"]:
        server_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        fresh = FreshTmp(uid=int(sys.argv[3]), size=int(sys.argv[4]), server_ns=server_ns)
    _leave_pid_1()
    _prctl(PR_SET_DUMPABLE, 0)  # no ptrace or /proc/PID/mem access by same-uid programs
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of programs become our children
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    for line in sys.stdin:
        reply = serve_one(json.loads(line), root, fresh)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
