"""OpenAI's HumanEval infilling sets (Bavarian et al., 2022), graded by running the tests.

Each item is a HumanEval solution with a span removed: one line (``single-line``, 1033 items),
several whole lines (``multi-line``, 5815), or a random character span (``random-span``, 1640;
``random-span-light``, 164). The model sees prefix and suffix in its fill-in-the-middle format;
prefix + middle + suffix + the item's test is the program, as in OpenAI's harness. Exact match
(whitespace-stripped) is recorded too.
"""

from __future__ import annotations

from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.fim import FimFormat
from dsc_evals.outcome import ExecResult, Program
from dsc_evals.tasks.base import Problem, Task

VARIANTS = ("single-line", "multi-line", "random-span", "random-span-light")


class HumanEvalInfilling(Task):
    def __init__(self, variant: str, fim: FimFormat | None = None) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"no HumanEval infilling set {variant!r}; known: {VARIANTS}")
        self.variant = variant
        self.name = f"humaneval-infilling-{variant}"
        self.fim = fim or FimFormat()

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate(f"{self.name}.jsonl", data_dir)
        # One line is asked for in the single-line set; the others end where the model ends.
        stop = ("\n",) if self.variant == "single-line" else ()
        problems = []
        for where, row in read_jsonl(path):
            prefix = require(row, "prompt", str, where)
            suffix = require(row, "suffix", str, where)
            entry = require(row, "entry_point", str, where)
            test = require(row, "test", str, where) + f"\ncheck({entry})\n"
            problems.append(
                Problem(
                    task_id=require(row, "task_id", str, where),
                    prompt=self.fim.prompt(prefix, suffix),
                    stop=stop,
                    reference=require(row, "canonical_solution", str, where),
                    data={"prefix": prefix, "suffix": suffix, "test": test},
                )
            )
        return problems

    def middle(self, completion: str) -> str:
        """The text that fills the hole: in the single-line set, the completion's first line
        (its line break is the stop string, cut off by generation; samples made elsewhere may
        go on)."""
        if self.variant == "single-line":
            return completion.split("\n", 1)[0] + "\n"
        return completion

    def program(self, problem: Problem, completion: str) -> Program:
        data = problem.data
        source = data["prefix"] + self.middle(completion) + data["suffix"]
        return Program("python", source + "\n" + data["test"])

    def grade(self, problem: Problem, completion: str, result: ExecResult) -> dict[str, bool]:
        exact = self.middle(completion).strip() == (problem.reference or "").strip()
        return {"passed": result.passed, "exact_match": exact}
