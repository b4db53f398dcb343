"""Where shard tasks run: in this process, in local worker processes, or on a Ray cluster.

A task is a top-level function applied to one item (usually a shard). Every executor returns
results in the order of the items, so the output never depends on which worker ran what.
There is deliberately no home-made cluster here: multi-machine runs go through Ray.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Done = Callable[[int], None]  # told the index of each item as its task finishes


def _nothing(_: int) -> None:
    pass


class Executor(Protocol):
    """Runs ``fn`` over ``items`` and returns the results in item order; ``done`` hears of
    each finished item (progress)."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done = _nothing) -> list[R]: ...


@dataclass(frozen=True)
class LocalExecutor:
    """Runs tasks one after another in this process.

    The Rust kernels already use every core through Polars' thread pool, so a process pool
    on top would only fight it (and forking after Rust threads started can deadlock).
    """

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done = _nothing) -> list[R]:
        results = []
        for index, item in enumerate(items):
            results.append(fn(item))
            done(index)
        return results


Env = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ProcessExecutor:
    """Runs tasks in ``workers`` processes of this machine, one task at a time each.

    The processes are spawned, not forked: forking after Rust thread pools (Polars, the
    tokenizers' Rayon pool) started can deadlock. They start with ``env`` in their environment
    (Polars sizes its pool when it is imported, before any task could set a variable), e.g.
    one thread each so that N workers use N cores.
    """

    workers: int
    env: Env = ()

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done = _nothing) -> list[R]:
        # concurrent.futures, not multiprocessing.Pool: a worker that dies (killed, or unable
        # to import ``fn``'s module) breaks the pool with an error instead of hanging the map.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            with _environment(self.env):
                # A spawning pool starts all its processes at the first submit, so with env.
                futures = [pool.submit(fn, item) for item in items]
            try:
                results = []
                for index, future in enumerate(futures):
                    results.append(future.result())
                    done(index)  # in item order: a finished later item waits for earlier ones
                return results
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


@contextmanager
def _environment(env: Env) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name, _ in env}
    os.environ.update(dict(env))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class RayExecutor:
    """Runs tasks as Ray remote functions on the cluster at ``address``.

    ``address`` is what ``ray.init`` takes ("auto" for a running cluster, ``None`` to start a
    local one); ``num_cpus`` reserves cores per task for the threads inside it, and the task's
    worker process starts with ``env`` (Ray's ``runtime_env``), which sizes those threads.
    """

    address: str | None = "auto"
    num_cpus: float = 1.0
    env: Env = ()
    init_kwargs: tuple[tuple[str, Any], ...] = ()

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done = _nothing) -> list[R]:
        import ray  # optional dependency: `pip install dsc[distributed]`

        if not ray.is_initialized():
            ray.init(address=self.address, **dict(self.init_kwargs))
        runtime_env = {"env_vars": dict(self.env)} if self.env else None
        remote = ray.remote(num_cpus=self.num_cpus, runtime_env=runtime_env)(fn)
        refs = [remote.remote(item) for item in items]
        index_of = {ref: i for i, ref in enumerate(refs)}
        pending = list(refs)
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            done(index_of[finished[0]])
        return list(ray.get(refs))


def make_executor(ray_address: str | None, workers: int = 1, env: Env = ()) -> Executor:
    """Ray when a cluster address ("auto", "ray://host:port") is given, else ``workers``
    processes, or this process for one worker (``env``: the processes' or tasks' environment)."""
    if ray_address is not None:
        return RayExecutor(address=ray_address, env=env)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    return LocalExecutor() if workers == 1 else ProcessExecutor(workers, env)
