"""What every benchmark provides to the runner."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsc_evals.outcome import ExecResult, Program


@dataclass(frozen=True)
class Problem:
    """One benchmark item as the model sees it, plus what grading it needs."""

    task_id: str
    prompt: str
    stop: tuple[str, ...]
    reference: str | None = None  # a known-good completion, when the benchmark has one
    group: str = ""  # a breakdown key: LeetCode difficulty, MATH subject, ...
    data: dict[str, Any] = field(default_factory=dict, compare=False)  # grading material


class Task(ABC):
    """A benchmark: its problems, the program a completion becomes, and how a result is graded."""

    name: str
    language: str | None = "python"  # the toolchain its programs need; None: nothing is run
    python: str | None = None  # the interpreter of its programs, when not the harness's
    group_mean: bool = False  # also score the mean over groups (the paper averages languages)

    @abstractmethod
    def problems(self, data_dir: Path | None) -> list[Problem]:
        """The evaluated problems, in benchmark order."""

    @abstractmethod
    def program(self, problem: Problem, completion: str) -> Program | None:
        """The complete program that tests ``completion``; None when it is graded unrun."""

    def grade(
        self, problem: Problem, completion: str, result: ExecResult
    ) -> Mapping[str, bool | float]:
        """Metrics of one sample (rates or scores in [0, 1]); ``passed`` is the one pass@k is
        computed from."""
        return {"passed": result.passed}
