"""The execution engine: runs untrusted programs in parallel, each isolated and limited.

Each parallel slot owns one sandbox with a fork server in it (dsc_evals/supervisor.py). Results
come back in the order of the programs, whatever the number of slots, so a run is deterministic up
to the programs' own timing.
"""

from __future__ import annotations

import os
import queue
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from dsc_evals.config import MIB, ExecConfig
from dsc_evals.endmarker import new_marker, with_end_marker
from dsc_evals.languages import LANGUAGES
from dsc_evals.memory import make_cgroup
from dsc_evals.outcome import ExecResult, Outcome, Program
from dsc_evals.sandbox import DESCRIPTIONS, make_sandbox, reserve_uids, resolve_isolation
from dsc_evals.supervisor import Supervisor, exec_step, python_step

COMPILE_TIME_FACTOR = 6.0  # compilers (javac, tsc, g++ with bits/stdc++.h) get this much more time
DIED = "the sandboxed fork server died or hung (did the program kill its parent?)"
NO_END = "exited 0 without reaching the end of its tests (no end marker in its output)"
# A SIGKILL the harness did not send (the deadline and the memory budget have their own outcomes).
KILLED = "killed by SIGKILL, neither at its deadline nor for its memory budget (by itself or from"
KILLED += " outside the sandbox)"
OVER_MEMORY = "went over its memory budget (all its processes together); killed"


class Engine:
    """Runs programs under the configured isolation; use as a context manager."""

    def __init__(self, config: ExecConfig) -> None:
        self.config = config
        # The slots' uids are this engine's alone while it lives (dsc_evals/sandbox.py).
        self.uid_base, self._uid_locks = reserve_uids(config.sandbox_uid_base, config.worker_count)
        try:
            self.isolation = resolve_isolation(
                config.isolation, config.allow_weak_isolation, self.uid_base, config.python
            )
        except BaseException:
            self._release_uids()
            raise
        cgroups, self.memory_bound = self._memory_cgroups()
        self._slots = [
            Supervisor(
                make_sandbox(self.isolation, index, self.uid_base, config.python, config.hidden),
                config.limits,
                config.stderr_tail_bytes,
                None if cgroups is None else f"{cgroups}-{index}",
            )
            for index in range(config.worker_count)
        ]

    def _memory_cgroups(self) -> tuple[str | None, str]:
        """The prefix of the slots' memory cgroup names (None: the fork server polls memory) and
        how a sample's memory is bounded, in words."""
        budget = f"{self.config.limits.memory_mib} MiB per sample"
        if not self.config.memory_cgroup:
            return None, f"{budget}, polled by the fork server (cgroups not asked for)"
        prefix = f"dsc-evals-{os.getpid()}-{id(self):x}"
        probe = make_cgroup(f"{prefix}-probe", self.config.limits.memory_mib * MIB)
        if isinstance(probe, str):
            return None, f"{budget}, polled by the fork server (no cgroup: {probe})"
        probe.remove()
        return prefix, f"{budget}, a cgroup v{probe.version} per slot ({probe.path.parent})"

    def describe(self) -> str:
        """The isolation mode and memory bound in words, as printed at start."""
        return f"{DESCRIPTIONS[self.isolation]}; memory: {self.memory_bound}"

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        self._release_uids()

    @property
    def sandbox_uids(self) -> list[int]:
        """The host uids the slots' programs run as (empty without root: they keep ours)."""
        return [slot.sandbox.uid for slot in self._slots if slot.sandbox.uid is not None]

    def close(self) -> None:
        for slot in self._slots:
            slot.close()

    def _release_uids(self) -> None:
        for fd in self._uid_locks:
            os.close(fd)
        self._uid_locks = []

    def run(self, programs: Sequence[Program]) -> list[ExecResult]:
        """Run every program; the i-th result belongs to the i-th program."""
        for program in programs:
            if program.language != "python" and program.language not in LANGUAGES:
                raise ValueError(f"unknown language {program.language!r}")
        markers = [new_marker() for _ in programs]
        sources = [
            with_end_marker(p.language, p.source, m) for p, m in zip(programs, markers, strict=True)
        ]
        free: queue.Queue[Supervisor] = queue.Queue()
        for slot in self._slots:
            free.put(slot)

        def run_one(index: int) -> ExecResult:
            slot = free.get()
            try:
                return self._run_in(slot, programs[index].language, sources[index], markers[index])
            finally:
                free.put(slot)

        # bwrap's --die-with-parent follows the thread that started it, so the servers (started by
        # pool threads) are closed before the pool's threads end.
        with ThreadPoolExecutor(max_workers=len(self._slots)) as pool:
            try:
                return list(pool.map(run_one, range(len(programs))))
            finally:
                self.close()

    def _run_in(self, slot: Supervisor, language_name: str, source: str, marker: str) -> ExecResult:
        limits = self.config.limits
        if language_name == "python":
            return _classify(*slot.run({}, [python_step(source, marker, limits)]), compiled=False)
        language = LANGUAGES[language_name]
        env = dict(language.env)
        steps = [exec_step(language.run, env, (language.failure_marker, marker), limits)]
        if language.compile:
            build_limits = limits.scaled(COMPILE_TIME_FACTOR)
            steps.insert(0, exec_step(language.compile, env, ("", marker), build_limits))
        reply, over_memory = slot.run({language.source_file: source}, steps)
        return _classify(reply, over_memory, compiled=bool(language.compile))


def _classify(
    steps: list[dict[str, Any]] | None, over_memory: bool, *, compiled: bool
) -> ExecResult:
    if steps is None:
        if over_memory:  # the kernel's OOM killer chose the fork server
            return ExecResult(Outcome.FAILED, None, "", "", 0.0, OVER_MEMORY)
        return ExecResult(Outcome.SANDBOX_VIOLATION, None, "", "", 0.0, DIED)
    last = steps[-1]
    code = last["returncode"]
    seconds = sum(step["seconds"] for step in steps)

    def result(outcome: Outcome, detail: str = "") -> ExecResult:
        return ExecResult(outcome, code, last["stdout"], last["stderr"], seconds, detail)

    if over_memory:
        return result(Outcome.FAILED, OVER_MEMORY)
    if last["leftovers"]:
        return result(
            Outcome.SANDBOX_VIOLATION,
            f"{last['leftovers']} process(es) outlived the program and were killed",
        )
    if compiled and len(steps) == 1:
        detail = "compiler timed out" if last["timed_out"] else "compilation failed"
        return result(Outcome.COMPILE_ERROR, detail)
    if last["timed_out"]:
        return result(Outcome.TIMEOUT, "time limit reached; process group killed")
    if code is not None and code < 0:  # neither the deadline nor the memory budget: say who
        return result(Outcome.FAILED, _killed_by(-code))
    if code != 0:
        return result(Outcome.FAILED)
    if last["marker_seen"]:
        return result(Outcome.FAILED, "the language's failure marker was printed")
    if not last["end_seen"]:
        return result(Outcome.FAILED, NO_END)
    return result(Outcome.PASSED)


def _killed_by(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return KILLED if number == signal.SIGKILL else f"killed by {name}"
