"""Single-line infilling built from HumanEval's canonical solutions (Fried et al., 2022).

Each non-blank line of each solution is masked in turn; the prompt and the lines above are the
prefix, the lines below the suffix. The model sees them in its fill-in-the-middle format and
writes one line, graded by exact match (whitespace-stripped) and by running the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsc_evals.outcome import ExecResult, Program
from dsc_evals.tasks.base import Problem, Task
from dsc_evals.tasks.humaneval import load_humaneval_python


@dataclass(frozen=True)
class FimFormat:
    """A prefix-suffix-middle (PSM) prompt: ``begin + prefix + hole + suffix + end``, then middle.

    The default is DeepSeek-Coder's tokenizer (PAPER.md §2): ``<|fim_begin|>`` etc. written with
    full-width bars U+FF5C and U+2581 for the underscore (escaped below). Other models: e.g.
    StarCoder's ``<fim_prefix>``/``<fim_suffix>``/``<fim_middle>``.
    """

    begin: str = "<\uff5cfim\u2581begin\uff5c>"
    hole: str = "<\uff5cfim\u2581hole\uff5c>"
    end: str = "<\uff5cfim\u2581end\uff5c>"

    def __post_init__(self) -> None:
        if not (self.begin and self.hole and self.end):
            raise ValueError("FimFormat sentinels must be non-empty")

    def prompt(self, prefix: str, suffix: str) -> str:
        return f"{self.begin}{prefix}{self.hole}{suffix}{self.end}"


def single_line_problems(fim: FimFormat, data_dir: Path | None) -> list[Problem]:
    problems = []
    for source in load_humaneval_python(data_dir):
        lines = (source.reference or "").splitlines(keepends=True)
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            prefix = source.prompt + "".join(lines[:index])
            suffix = "".join(lines[index + 1 :])
            problems.append(
                Problem(
                    task_id=f"{source.task_id}/L{index}",
                    prompt=fim.prompt(prefix, suffix),
                    stop=("\n",),
                    reference=line.rstrip("\n"),
                    data={"prefix": prefix, "suffix": suffix, "test": source.data["test"]},
                )
            )
    return problems


class SingleLineInfilling(Task):
    name = "infilling"

    def __init__(self, fim: FimFormat | None = None) -> None:
        self.fim = fim or FimFormat()

    def problems(self, data_dir: Path | None) -> list[Problem]:
        return single_line_problems(self.fim, data_dir)

    def program(self, problem: Problem, completion: str) -> Program:
        middle = completion.split("\n", 1)[0]
        source = problem.data["prefix"] + middle + "\n" + problem.data["suffix"]
        return Program("python", source + "\n" + problem.data["test"])

    def grade(self, problem: Problem, completion: str, result: ExecResult) -> dict[str, bool]:
        middle = completion.split("\n", 1)[0]
        exact = middle.strip() == (problem.reference or "").strip()
        return {"passed": result.passed, "exact_match": exact}
