"""Typed, validated settings for running untrusted programs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

MIB = 1024 * 1024


class Isolation(Enum):
    """How strongly a program is kept from the host (evals/README.md states what each gives)."""

    BWRAP = "bwrap"  # bubblewrap: fresh pid/net/ipc/uts namespaces, read-only root, private /tmp
    UNSHARE = "unshare"  # util-linux unshare: fresh pid and net namespaces only
    RLIMITS = "rlimits"  # resource limits, process group and scrubbed environment only
    AUTO = "auto"  # the strongest mode that works on this machine


@dataclass(frozen=True)
class Limits:
    """Per-program resource limits; the wall-clock timeout is scaled by ``timeout_multiplier``."""

    timeout_s: float = 10.0  # wall clock for one program run (compile and run are timed apart)
    cpu_s: int = 10  # RLIMIT_CPU: CPU seconds before SIGXCPU/SIGKILL
    address_space_mib: int = 4096  # RLIMIT_AS: virtual memory (the JVM and V8 start under 4 GiB)
    memory_mib: int = 4096  # memory of all the processes of one program together (cgroup or polled)
    open_files: int = 256  # RLIMIT_NOFILE
    file_size_mib: int = 64  # RLIMIT_FSIZE: largest file a program may write, output logs included
    processes: int = 256  # RLIMIT_NPROC: processes and threads of the sandbox user (JVM: ~40)
    tmp_size_mib: int = 512  # size of the sandbox's private /tmp (bwrap mode)
    timeout_multiplier: float = 1.0  # for slow machines: scales timeout_s and cpu_s

    def __post_init__(self) -> None:
        for name in ("timeout_s", "timeout_multiplier"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be > 0, got {getattr(self, name)!r}")
        ints = (
            "cpu_s",
            "address_space_mib",
            "memory_mib",
            "open_files",
            "file_size_mib",
            "processes",
            "tmp_size_mib",
        )
        for name in ints:
            if not (isinstance(getattr(self, name), int) and getattr(self, name) > 0):
                raise ValueError(
                    f"Limits.{name} must be a positive int, got {getattr(self, name)!r}"
                )

    @property
    def wall_s(self) -> float:
        return self.timeout_s * self.timeout_multiplier

    @property
    def cpu_limit_s(self) -> int:
        return max(1, round(self.cpu_s * self.timeout_multiplier))

    def scaled(self, factor: float) -> Limits:
        """The same limits with the wall clock and CPU budget multiplied (e.g. for compilers)."""
        return replace(
            self, timeout_s=self.timeout_s * factor, cpu_s=max(1, round(self.cpu_s * factor))
        )


@dataclass(frozen=True)
class ExecConfig:
    """How the execution engine runs programs."""

    isolation: Isolation = Isolation.AUTO
    # The modes without file-system isolation (unshare, rlimits) must be acknowledged.
    allow_weak_isolation: bool = False
    limits: Limits = Limits()
    workers: int = 0  # parallel programs; 0 means one per CPU core
    sandbox_uid_base: int = (
        61000  # as root, each slot runs as a host uid of its own from here (RLIMIT_NPROC per slot)
    )
    stderr_tail_bytes: int = 2000  # how much of each program's stderr/stdout is kept
    # Python programs run in forks of this interpreter (it needs only the standard library).
    python: str = field(default_factory=lambda: sys.executable)
    hidden: tuple[Path, ...] = ()  # benchmark answers the sandbox must not see
    memory_cgroup: bool = True  # bound memory with a cgroup when one can be made (else polled)

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"ExecConfig.workers must be >= 0, got {self.workers}")
        if not 1000 <= self.sandbox_uid_base <= 2**31 - 1024:
            raise ValueError(f"ExecConfig.sandbox_uid_base out of range: {self.sandbox_uid_base}")
        if self.stderr_tail_bytes < 0:
            raise ValueError("ExecConfig.stderr_tail_bytes must be >= 0")

    @property
    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)
