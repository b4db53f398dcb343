"""DS-1000 (Lai et al., 2023): 1000 data-science problems over seven Python libraries.

The completion-mode prompt of the public harness (xlang-ai/DS-1000) is the problem's ``prompt``; the
model writes the code inside ``<code>`` and stops at ``</code>`` or ``# SOLUTION END``. The program
is the problem's ``code_context`` calling ``test_execution`` (and ``test_string`` where it defines
one) on the completion, as the harness does; it runs in the separate runtime of
``dsc_evals.ds1000_runtime``, with matplotlib headless. Scores by library (``by_group``).
"""

from __future__ import annotations

from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.ds1000_runtime import interpreter, runtime_dir
from dsc_evals.outcome import Program
from dsc_evals.tasks.base import Problem, Task

STOP = ("</code>", "# SOLUTION END")
PERTURBATIONS = ("Origin", "Surface", "Semantic", "Difficult-Rewrite")
# No display in the sandbox: matplotlib draws to memory.
HEADLESS = 'import os\nos.environ["MPLBACKEND"] = "Agg"\n'


def clean(completion: str) -> str:
    """The code of a completion, as the public harness's ``postprocess`` takes it: up to
    ``</code>``, markdown fences and ``<code>`` removed, up to ``END SOLUTION``."""
    code = completion.split("</code>")[0].replace("```python", "")
    return code.split("```")[0].split("\nEND SOLUTION")[0].replace("<code>", "")


class DS1000(Task):
    name = "ds1000"

    def __init__(self, runtime: Path | None = None) -> None:
        self.python = str(interpreter(runtime or runtime_dir()))

    def problems(self, data_dir: Path | None) -> list[Problem]:
        problems = []
        for where, row in read_jsonl(locate("ds1000.jsonl", data_dir)):
            metadata = require(row, "metadata", dict, where)
            perturbation = require(metadata, "perturbation_type", str, where)
            if perturbation not in PERTURBATIONS:
                raise ValueError(f"{where}: perturbation_type {perturbation!r} is unknown")
            context = require(row, "code_context", str, where)
            problems.append(
                Problem(
                    task_id=f"DS1000/{require(metadata, 'problem_id', int, where)}",
                    prompt=require(row, "prompt", str, where),
                    stop=STOP,
                    reference=require(row, "reference_code", str, where),
                    group=require(metadata, "library", str, where),
                    data={"context": context},
                )
            )
        return problems

    def program(self, problem: Problem, completion: str) -> Program:
        context = problem.data["context"]
        calls = f"code = {clean(completion)!r}\ntest_execution(code)\n"
        if "test_string(" in context:
            calls += "test_string(code)\n"
        return Program("python", f"{HEADLESS}{context}\n{calls}")
