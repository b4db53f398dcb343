"""The harness's side of one sandboxed fork server (dsc_evals/forkserver.py)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

from dsc_evals.config import MIB, Isolation, Limits
from dsc_evals.memory import MemoryCgroup, make_cgroup
from dsc_evals.sandbox import BWRAP_ROOT, SANDBOX_ENV, Sandbox

FORKSERVER = Path(__file__).resolve().parent / "forkserver.py"
REPLY_GRACE_S = 5.0  # the server's own timeouts fire first; this catches a server that hangs
TEARDOWN_WAIT_S = 10.0  # longest wait for a killed sandbox's processes to be gone


class Supervisor:
    """One sandbox with a fork server in it, started on first use and restarted after it dies.

    With ``cgroup_name`` the sandbox runs in a memory cgroup of that name (dsc_evals/memory.py),
    made anew at each start; otherwise the fork server polls the programs' memory itself.
    """

    def __init__(
        self, sandbox: Sandbox, limits: Limits, tail_bytes: int, cgroup_name: str | None
    ) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.tail_bytes = tail_bytes
        self.cgroup_name = cgroup_name
        self._cgroup: MemoryCgroup | None = None
        self._starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._root: Path | None = None  # host directory the server works in (non-bwrap modes)
        # The wrapper's child is the sandbox's pid 1 (bwrap, unshare): it exits only once the
        # kernel has killed and reaped every process of its pid namespace. Watched from the start,
        # as bwrap's outer process may exit before it.
        self._pid1: list[int] = []
        self._next_id = 0

    def run(
        self, files: dict[str, str], steps: list[dict[str, Any]]
    ) -> tuple[list[dict] | None, bool]:
        """Run the steps (see forkserver.py): their reports (None when the server died or hung
        meanwhile) and whether the program went over its memory budget."""
        proc = self._proc or self._start()
        ooms_before = self._cgroup.oom_kills() if self._cgroup else 0
        reply = self._exchange(proc, files, steps)
        exceeded = self._cgroup is not None and self._cgroup.oom_kills() > ooms_before
        if reply is None:
            self.close()
        else:
            exceeded = exceeded or any(step["memory_exceeded"] for step in reply)
        return reply, exceeded

    def _exchange(
        self, proc: subprocess.Popen[bytes], files: dict[str, str], steps: list[dict[str, Any]]
    ) -> list[dict] | None:
        self._next_id += 1
        # Without a cgroup, the fork server enforces the budget over the program's processes.
        budget = 0 if self._cgroup else self.limits.memory_mib * MIB
        steps = [{**step, "rss_budget": budget} for step in steps]
        request = {"id": self._next_id, "files": files, "steps": steps, "tail": self.tail_bytes}
        stdin: IO[bytes] = proc.stdin  # type: ignore[assignment]
        stdout: IO[bytes] = proc.stdout  # type: ignore[assignment]
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            return None
        patience = sum(step["wall_s"] for step in steps) + REPLY_GRACE_S
        ready, _, _ = select.select([stdout], [], [], patience)
        line = stdout.readline() if ready else b""
        if not line:
            return None
        reply = json.loads(line)
        return reply["steps"] if reply.get("id") == request["id"] else None

    def _start(self) -> subprocess.Popen[bytes]:
        if self.sandbox.mode is Isolation.BWRAP:
            root = BWRAP_ROOT  # on the sandbox's private tmpfs
        else:
            self._root = Path(tempfile.mkdtemp(prefix="dsc-evals-"))
            if self.sandbox.uid is not None:
                os.chown(self._root, self.sandbox.uid, self.sandbox.uid)
            root = str(self._root)
        argv = [self.sandbox.python, "-I", str(FORKSERVER), root]
        command = self.sandbox.wrap([*argv, *self.sandbox.server_args(self.limits)], self.limits)
        if self.cgroup_name is not None:
            self._starts += 1
            cgroup = make_cgroup(f"{self.cgroup_name}-{self._starts}", self.limits.memory_mib * MIB)
            if isinstance(cgroup, str):
                raise RuntimeError(f"cannot make the sandbox's memory cgroup: {cgroup}")
            self._cgroup = cgroup
            command = cgroup.join(command)
        with tempfile.TemporaryFile() as errors:
            self._proc = subprocess.Popen(
                command,
                env=SANDBOX_ENV,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                start_new_session=True,
            )
            # A server that cannot run an empty program is a broken setup, not a bad sample.
            step = python_step("pass", "", self.limits)
            reply = self._exchange(self._proc, {}, [step])
            if reply is None or reply[0]["returncode"] != 0:
                self.close()
                errors.seek(0)
                message = errors.read()[-2000:].decode(errors="replace")
                raise RuntimeError(f"the sandboxed fork server failed to start: {message or reply}")
        self._pid1 = _child_pidfds(self._proc.pid)
        return self._proc

    def close(self) -> None:
        """Stop the server and wait until everything in its sandbox is gone."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            for pidfd in self._pid1:
                select.select([pidfd], [], [], TEARDOWN_WAIT_S)
                os.close(pidfd)
            self._pid1 = []
            if self.sandbox.uid is not None:
                _kill_uid(self.sandbox.uid)
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            self._proc = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of the slot's own uid: what a program left when it killed the server
    outside a pid namespace (its orphans then belong to the host's init, not to the server)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    os.kill(int(entry.name), signal.SIGKILL)


def _child_pidfds(pid: int) -> list[int]:
    """pidfds of the direct children of ``pid`` (empty where the kernel does not list them)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    pidfds = []
    for child in listed:
        with contextlib.suppress(OSError):
            pidfds.append(os.pidfd_open(int(child)))
    return pidfds


def _limits(limits: Limits) -> dict[str, Any]:
    return {
        "wall_s": limits.wall_s,
        "cpu_s": limits.cpu_limit_s,
        "as_bytes": limits.address_space_mib * MIB,
        "nofile": limits.open_files,
        "fsize": limits.file_size_mib * MIB,
    }


def python_step(source: str, end_marker: str, limits: Limits) -> dict[str, Any]:
    """A step that runs Python source in a fork of the server's interpreter."""
    markers = {"failure_marker": "", "end_marker": end_marker}
    return {"python": source, **markers, **_limits(limits)}


def exec_step(
    argv: tuple[str, ...],
    env: dict[str, str],
    markers: tuple[str, str],
    limits: Limits,
) -> dict[str, Any]:
    """A step that executes a command line in the work directory; ``markers`` are the failure
    marker and the end marker (dsc_evals/endmarker.py) of its output."""
    failure, end = markers
    return {
        "argv": list(argv),
        "env": env,
        "failure_marker": failure,
        "end_marker": end,
        **_limits(limits),
    }
