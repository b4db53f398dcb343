"""``--threads``: one setting sizes Polars' pool and our Rayon pool in each shard task."""

from __future__ import annotations

import sys
import types
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from dsc import build_corpus
from dsc.executor import LocalExecutor, ProcessExecutor
from dsc.threads import machine_threads, pool_sizes, thread_env


def pools(_: object) -> tuple[int, int]:
    return pool_sizes()


@pytest.mark.parametrize("threads", [1, 3])
def test_a_worker_process_starts_with_both_pools_sized(threads: int) -> None:
    executor = ProcessExecutor(1, tuple(thread_env(threads).items()))
    assert executor.map(pools, [None]) == [(threads, threads)]


def test_a_worker_that_cannot_load_its_task_breaks_the_map_instead_of_hanging() -> None:
    # A function of a module that exists only in this process: workers cannot import it.
    module = types.ModuleType("dsc_test_nowhere")
    exec("def task(_):\n    return 1\n", module.__dict__)
    sys.modules[module.__name__] = module
    try:
        with pytest.raises(BrokenProcessPool):
            ProcessExecutor(1).map(module.task, [None, None])
    finally:
        del sys.modules[module.__name__]


def test_local_runs_stay_in_process_when_the_pools_already_fit() -> None:
    assert pool_sizes() == (machine_threads(), machine_threads())  # nothing set in CI
    assert isinstance(build_corpus.shard_executor(None, None), LocalExecutor)
    assert isinstance(build_corpus.shard_executor(None, machine_threads()), LocalExecutor)
    other = build_corpus.shard_executor(None, machine_threads() + 1)
    assert other == ProcessExecutor(1, tuple(thread_env(machine_threads() + 1).items()))


def test_local_workers_share_the_cores_unless_told() -> None:
    shared = max(1, machine_threads() // 2)
    assert build_corpus.shard_executor(None, None, 2) == ProcessExecutor(
        2, tuple(thread_env(shared).items())
    )
    assert build_corpus.shard_executor(None, 3, 2) == ProcessExecutor(
        2, tuple(thread_env(3).items())
    )


def test_ray_tasks_reserve_their_threads() -> None:
    ray = build_corpus.shard_executor("auto", 3)
    assert (ray.num_cpus, dict(ray.env)) == (3, thread_env(3))  # type: ignore[attr-defined]
    default = build_corpus.shard_executor("auto", None)
    assert (default.num_cpus, dict(default.env)) == (1, thread_env(1))  # type: ignore[attr-defined]


def test_a_bad_thread_count_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        build_corpus.main(["--input", str(tmp_path), "--threads", "0"])
    assert "argument --threads: must be >= 1, got 0" in capsys.readouterr().err
