"""Where shard tasks run: in this process, in local worker processes, or on a Ray cluster.

A task is a top-level function applied to one item (usually a shard). Every executor returns
results in the order of the items, so the output never depends on which worker ran what.
There is deliberately no home-made cluster here: multi-machine runs go through Ray.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``items`` and returns the results in item order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


@dataclass(frozen=True)
class LocalExecutor:
    """Runs tasks one after another in this process.

    The Rust kernels already use every core through Polars' thread pool, so a process pool
    on top would only fight it (and forking after Rust threads started can deadlock).
    """

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]


@dataclass(frozen=True)
class ProcessExecutor:
    """Runs tasks in ``workers`` processes of this machine, one task at a time each.

    The processes are spawned, not forked: forking after Rust thread pools (Polars, the
    tokenizers' Rayon pool) started can deadlock. Each gets ``env`` before its first task, e.g.
    one Rayon thread so that N workers use N cores.
    """

    workers: int
    env: tuple[tuple[str, str], ...] = ()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        context = multiprocessing.get_context("spawn")
        with context.Pool(self.workers, initializer=_set_env, initargs=(self.env,)) as pool:
            return pool.map(fn, items, chunksize=1)


def _set_env(env: tuple[tuple[str, str], ...]) -> None:
    os.environ.update(dict(env))


@dataclass(frozen=True)
class RayExecutor:
    """Runs tasks as Ray remote functions on the cluster at ``address``.

    ``address`` is what ``ray.init`` takes ("auto" for a running cluster, ``None`` to start a
    local one); ``num_cpus`` reserves cores per task so Polars inside a task has its threads.
    """

    address: str | None = "auto"
    num_cpus: float = 1.0
    init_kwargs: tuple[tuple[str, Any], ...] = ()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        import ray  # optional dependency: `pip install dsc[distributed]`

        if not ray.is_initialized():
            ray.init(address=self.address, **dict(self.init_kwargs))
        remote = ray.remote(num_cpus=self.num_cpus)(fn)
        return list(ray.get([remote.remote(item) for item in items]))


def make_executor(
    ray_address: str | None, workers: int = 1, env: tuple[tuple[str, str], ...] = ()
) -> Executor:
    """Ray when a cluster address ("auto", "ray://host:port") is given, else ``workers``
    processes, or this process for one worker."""
    if ray_address is not None:
        return RayExecutor(address=ray_address)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    return LocalExecutor() if workers == 1 else ProcessExecutor(workers, env)
