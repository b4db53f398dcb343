"""How many threads the data engine uses: one setting for both of its thread pools.

Two pools do the work of a shard: Polars' pool (frame operations, and the expression plugins
it calls per chunk) and the Rayon pool of our compiled module (the stages that fan out over a
frame's rows themselves). Each starts on first use, sized once from the environment
(``POLARS_MAX_THREADS``, ``RAYON_NUM_THREADS``; default every core of the machine). So the
setting must reach a process before Polars is imported: ``build_corpus`` runs its tasks in
worker processes started with it (unless this process's pools already have that size), and a
Ray task gets it in its ``runtime_env`` along with a reservation of as many CPUs as threads.
"""

from __future__ import annotations

import os

ENV_VARS = ("POLARS_MAX_THREADS", "RAYON_NUM_THREADS")


def machine_threads() -> int:
    """The cores this process may run on (its affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0))


def thread_env(threads: int) -> dict[str, str]:
    """The environment that sizes both pools to ``threads``."""
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    return {name: str(threads) for name in ENV_VARS}


def pool_sizes() -> tuple[int, int]:
    """(Polars' threads, the Rayon pool's threads) of this process; starts both pools."""
    import polars as pl

    from dsc._dsc import rayon_threads

    return pl.thread_pool_size(), rayon_threads()
