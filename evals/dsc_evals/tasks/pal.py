"""Program-aided math (PAL, Gao et al. 2023): the model writes `solution()`; we grade its answer."""

from __future__ import annotations

from pathlib import Path

from dsc_evals.answers import gsm8k_gold, last_boxed, last_line, math_equivalent, numbers_equal
from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.outcome import ExecResult, Program
from dsc_evals.tasks.base import Problem, Task

# Our own worked examples (the paper's prompts are not published in full).
GSM8K_SHOTS = '''\
Let's use python to solve math problems.

Question: A baker sells 48 rolls in bags of 6 at $4 a bag. How much money does she make?

```python
def solution():
    r"""A baker sells 48 rolls in bags of 6 at $4 a bag. How much money does she make?"""
    rolls = 48
    rolls_per_bag = 6
    price_per_bag = 4
    bags = rolls // rolls_per_bag
    return bags * price_per_bag
```

Question: Tom read 12 pages, then twice as many. How many of the 100 pages are left?

```python
def solution():
    r"""Tom read 12 pages, then twice as many. How many of the 100 pages are left?"""
    monday = 12
    tuesday = 2 * monday
    return 100 - monday - tuesday
```

'''
MATH_SHOTS = '''\
Let's use python to solve math problems. Print the final answer in simplest form.

Question: What is the sum of the roots of $x^2 - 5x + 6 = 0$?

```python
def solution():
    r"""What is the sum of the roots of $x^2 - 5x + 6 = 0$?"""
    from fractions import Fraction
    a, b = 1, -5
    return Fraction(-b, a)
```

Question: Simplify $\\frac{3}{4} \\cdot \\frac{2}{9}$.

```python
def solution():
    r"""Simplify $\\frac{3}{4} \\cdot \\frac{2}{9}$."""
    from fractions import Fraction
    return Fraction(3, 4) * Fraction(2, 9)
```

'''
STOP = ("```",)


def _prompt(shots: str, question: str) -> str:
    # A raw docstring, so LaTeX backslashes (e.g. \underline) cannot be bad escapes.
    doc = question.replace('"""', "'''").rstrip("\\")
    return f'{shots}Question: {question}\n\n```python\ndef solution():\n    r"""{doc}"""\n'


class _PAL(Task):
    def program(self, problem: Problem, completion: str) -> Program:
        body = problem.prompt.rsplit("```python\n", 1)[1] + completion
        return Program("python", f"{body}\n\nprint(solution())\n")

    def grade(self, problem: Problem, completion: str, result: ExecResult) -> dict[str, bool]:
        predicted = last_line(result.stdout_tail) if result.passed else ""
        return {"passed": bool(predicted) and self.equivalent(predicted, problem.data["answer"])}

    def equivalent(self, predicted: str, gold: str) -> bool:
        return numbers_equal(predicted, gold)


class GSM8K(_PAL):
    name = "gsm8k"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate("gsm8k-test.json", data_dir)
        problems = []
        for index, (where, row) in enumerate(read_jsonl(path)):
            question = require(row, "question", str, where)
            gold = gsm8k_gold(require(row, "answer", str, where))
            problems.append(
                Problem(
                    str(row.get("idx", index)),
                    _prompt(GSM8K_SHOTS, question),
                    STOP,
                    data={"answer": gold},
                )
            )
        return problems


class MATH(_PAL):
    name = "math"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate("math-test.json", data_dir)
        problems = []
        for index, (where, row) in enumerate(read_jsonl(path)):
            gold = last_boxed(require(row, "solution", str, where))
            if gold is None:
                raise ValueError(f"{where}: no \\boxed answer in field 'solution'")
            problems.append(
                Problem(
                    str(row.get("idx", index)),
                    _prompt(MATH_SHOTS, require(row, "problem", str, where)),
                    STOP,
                    group=str(row.get("type", "")),
                    data={"answer": gold},
                )
            )
        return problems

    def equivalent(self, predicted: str, gold: str) -> bool:
        return math_equivalent(predicted, gold)
