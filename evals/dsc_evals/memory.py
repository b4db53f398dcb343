"""A memory bound per sample: a memory cgroup per parallel slot, when this machine lets us make one.

A slot runs one program at a time, so its cgroup (the sandbox, its fork server and whatever the
program starts) bounds each sample as a whole: a program that forks many children, each under the
per-process ``RLIMIT_AS``, still cannot take more than the budget together. The kernel enforces it
(its OOM killer picks a process of the cgroup); the supervisor reads the cgroup's OOM-kill count to
tell a sample that hit the budget. cgroup v2 is used when our own cgroup is delegated to us
(``memory`` in its controllers and a child we can limit), else the v1 ``memory`` hierarchy.

Where neither works (no root, no delegation) the fork server enforces the budget itself: it polls
the resident memory of the program's processes and kills them all when they go over it
(dsc_evals/forkserver.py).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

REMOVE_TRIES = 50  # times 20 ms: the last processes of a killed sandbox may take a moment to go


@dataclass(frozen=True)
class MemoryCgroup:
    """A cgroup made for one slot, limited to ``limit`` bytes (swap included)."""

    path: Path
    version: int  # 1 or 2

    def join(self, argv: list[str]) -> list[str]:
        """``argv`` started inside this cgroup (a shell adds itself, then becomes ``argv``)."""
        procs = str(self.path / "cgroup.procs")
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', procs, *argv]

    def oom_kills(self) -> int:
        """Processes the kernel has killed in this cgroup for going over its limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in (self.path / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        for _ in range(REMOVE_TRIES):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # still busy
                time.sleep(0.02)


def make_cgroup(name: str, limit: int) -> MemoryCgroup | str:
    """A new memory cgroup below our own, limited to ``limit`` bytes; else why there is none."""
    problems = []
    for version, parent in _own_cgroups():
        path = parent / name
        try:
            path.mkdir()
        except OSError as exc:
            problems.append(f"cgroup v{version} {parent}: {exc.strerror}")
            continue
        cgroup = MemoryCgroup(path, version)
        try:
            _limit(cgroup, limit)
        except OSError as exc:
            cgroup.remove()
            problems.append(f"cgroup v{version} {path}: {exc.strerror}")
            continue
        return cgroup
    return "; ".join(problems) or "no cgroup v2 with a memory controller nor cgroup v1 memory mount"


def _limit(cgroup: MemoryCgroup, limit: int) -> None:
    if cgroup.version == 2:
        (cgroup.path / "memory.max").write_text(str(limit))
        swap = cgroup.path / "memory.swap.max"
        if swap.exists():
            swap.write_text("0")
        return
    (cgroup.path / "memory.limit_in_bytes").write_text(str(limit))
    swap = cgroup.path / "memory.memsw.limit_in_bytes"  # memory + swap: no escape into swap
    if swap.exists():
        swap.write_text(str(limit))


def _own_cgroups() -> list[tuple[int, Path]]:
    """Our cgroup in a v2 hierarchy with the memory controller, then in the v1 memory hierarchy."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            _, where, kind, options = line.split()[:4]
            if kind == "cgroup2":
                mounts.setdefault("v2", Path(where))
            elif kind == "cgroup" and "memory" in options.split(","):
                mounts.setdefault("v1", Path(where))
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, own = line.split(":", 2)
            if controllers == "" and "v2" in mounts:
                parent = mounts["v2"] / own.lstrip("/")
                if "memory" in _read(parent / "cgroup.subtree_control").split():
                    found.append((2, parent))
            elif "memory" in controllers.split(",") and "v1" in mounts:
                found.append((1, mounts["v1"] / own.lstrip("/")))
    return sorted(found)[::-1]  # v2 first


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
