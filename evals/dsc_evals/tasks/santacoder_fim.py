"""Single-line infilling in Python, Java and JavaScript: the SantaCoder FIM benchmark (Allal et
al., 2023), the paper's single-line infilling figure (DeepSeek-Coder §4).

Each item masks one line of a HumanEval solution (MultiPL-E translations for Java and
JavaScript). The model sees prefix and suffix in its fill-in-the-middle format and writes the
middle; as in the benchmark's own ``generation.py``, the whitespace-stripped completion must equal
the stripped masked line. Nothing is run: the items join prefix, line and suffix with or without a
line break, so the program text is not defined by the data.
"""

from __future__ import annotations

from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.fim import FimFormat
from dsc_evals.outcome import ExecResult, Program
from dsc_evals.tasks.base import Problem, Task

LANGUAGES = ("py", "java", "js")


def load_language(path: Path, language: str, fim: FimFormat) -> list[Problem]:
    """The items of ``language`` in ``path``. The public file holds all three languages in one,
    so rows of the other two are passed over; any other language is an error."""
    problems = []
    for where, row in read_jsonl(path):
        prefix, suffix = require(row, "prompt", str, where), require(row, "suffix", str, where)
        found = require(row, "language", str, where)
        if found not in LANGUAGES:
            raise ValueError(f"{where}: language {found!r} is none of {', '.join(LANGUAGES)}")
        if found != language:
            continue
        problems.append(
            Problem(
                task_id=f"{language}/{require(row, 'name', str, where)}",
                prompt=fim.prompt(prefix, suffix),
                # The middle may begin with the line break the prefix lacks, so no stop string
                # can end it: generation ends at the end-of-sequence token, as in the original.
                stop=(),
                reference=require(row, "canonical_solution", str, where),
                group=language,
            )
        )
    return problems


class SantaCoderFim(Task):
    name = "infilling-single-line"
    language = None  # graded by exact match: no toolchain needed
    group_mean = True  # the paper's figure is the mean over the three languages

    def __init__(self, fim: FimFormat | None = None) -> None:
        self.fim = fim or FimFormat()

    def problems(self, data_dir: Path | None) -> list[Problem]:
        return [
            problem
            for language in LANGUAGES
            for problem in load_language(
                locate(f"santacoder-fim-{language}.jsonl", data_dir), language, self.fim
            )
        ]

    def program(self, problem: Problem, completion: str) -> Program | None:
        return None

    def grade(self, problem: Problem, completion: str, result: ExecResult) -> dict[str, bool]:
        exact = completion.strip() == (problem.reference or "").strip()
        return {"passed": exact, "exact_match": exact}
