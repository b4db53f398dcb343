"""The sandboxed supervisor: runs inside the sandbox and forks one child per program step.

Started by path (``python -I forkserver.py ROOT``) so that it imports only the standard library;
ROOT is the directory it may use (under bubblewrap ``/tmp``, a private tmpfs).
One JSON request per line on stdin, one JSON reply per line on stdout::

    request: {"id", "files": {name: text}, "tail", "steps": [step, ...]}
    step:    {"python": source} or {"argv": [...], "env": {...}},
             plus {"wall_s", "cpu_s", "as_bytes", "nofile", "fsize", "failure_marker",
                   "end_marker"}
    reply:   {"id", "steps": [{"timed_out", "returncode", "stdout", "stderr", "marker_seen",
                               "end_seen", "leftovers", "seconds"}, ...]}
             (timed_out: wall clock or CPU; end_seen: the end marker was in stdout; it is cut
             out of both tails)

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
from pathlib import Path
from typing import Any

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SWEEP_ROUNDS = 100  # a fork bomb's survivors re-parent to the server; each round kills them
FORK_RETRIES = 40  # times 50 ms


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def _confine(step: dict[str, Any], workdir: Path, out: int, err: int) -> None:
    """In the forked child: own session, limits, and only stdin/stdout/stderr open."""
    os.setsid()
    os.chdir(workdir)
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


def _run_child(step: dict[str, Any], workdir: Path, out: int, err: int) -> None:
    """In the forked child: confine, then run the step; never returns."""
    status = 1
    try:
        _confine(step, workdir, out, err)
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


def _wait(pid: int, wall_s: float) -> tuple[int, bool, float]:
    """Wait for the child; SIGKILL its process group at the deadline.

    Returns (wait status, timed out, CPU seconds the child used).
    """
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], wall_s)
        timed_out = not ready
        if timed_out:
            _kill_group(pid)
        _, status, usage = os.wait4(pid, 0)
        return status, timed_out, usage.ru_utime + usage.ru_stime
    finally:
        os.close(pidfd)


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


def _tail(path: Path, size: int, failure: bytes, end: bytes) -> tuple[str, bool, bool]:
    """The last ``size`` bytes of an output file (the ``end`` marker cut out) and whether the
    ``failure`` and ``end`` markers occur anywhere in it."""
    try:
        data = path.read_bytes()  # at most RLIMIT_FSIZE bytes
    except OSError:  # the program deleted or replaced its log
        data = b""
    end_seen = bool(end) and end in data
    if end_seen:
        data = data.replace(end + b"\n", b"").replace(end, b"")
    text = data[len(data) - size :].decode("utf-8", errors="replace")
    return text, bool(failure) and failure in data, end_seen


def _run_step(step: dict[str, Any], workdir: Path, logs: Path, tail: int) -> dict[str, Any]:
    out = os.open(logs / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(logs / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    start = time.monotonic()
    pid = _fork()
    if pid == 0:
        _run_child(step, workdir, out, err)
    os.close(out)
    os.close(err)
    status, timed_out, cpu_used = _wait(pid, step["wall_s"])
    seconds = time.monotonic() - start
    failure, end = step["failure_marker"].encode(), step["end_marker"].encode()
    stdout, out_failure, end_seen = _tail(logs / "stdout", tail, failure, end)
    stderr, err_failure, _ = _tail(logs / "stderr", tail, failure, end)  # cut from both
    return {
        "timed_out": timed_out or _hit_cpu_limit(status, cpu_used, step["cpu_s"]),
        "returncode": os.waitstatus_to_exitcode(status),
        "leftovers": _sweep(pid),
        "stdout": stdout,
        "stderr": stderr,
        "marker_seen": out_failure or err_failure,
        "end_seen": end_seen,
        "seconds": seconds,
    }


def serve_one(request: dict[str, Any], root: Path) -> dict[str, Any]:
    """Write the request's files, run its steps until one fails, and report each step."""
    workdir = root / "work"
    logs = root / "logs"
    workdir.mkdir(mode=0o700)
    logs.mkdir(mode=0o700)
    for name, text in request["files"].items():
        (workdir / name).write_text(text, encoding="utf-8")
    results = []
    for step in request["steps"]:
        result = _run_step(step, workdir, logs, request["tail"])
        results.append(result)
        if result["timed_out"] or result["returncode"] != 0 or result["leftovers"]:
            break
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
    _leave_pid_1()
    _prctl(PR_SET_DUMPABLE, 0)  # no ptrace or /proc/PID/mem access by same-uid programs
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of programs become our children
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    for line in sys.stdin:
        reply = serve_one(json.loads(line), root)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
