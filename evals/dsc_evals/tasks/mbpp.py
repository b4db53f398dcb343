"""MBPP with the 3-shot prompt of Austin et al. (2021): tasks 2-4 as shots, 11-510 evaluated."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.outcome import Program
from dsc_evals.tasks.base import Problem, Task

SHOT_IDS = (2, 3, 4)
EVAL_IDS = range(11, 511)
STOP = ("[DONE]",)


def known_bad_references() -> dict[int, str]:
    """Evaluated tasks whose reference code fails its own tests, with the reason (package data)."""
    text = (resources.files("dsc_evals") / "data" / "mbpp_bad_references.json").read_text()
    return {int(task_id): reason for task_id, reason in json.loads(text)["tasks"].items()}


def _describe(row: dict) -> str:
    tests = "\n".join(row["test_list"])
    return (
        f"You are an expert Python programmer, and here is your task: {row['text']} "
        f"Your code should pass these tests:\n\n{tests}\n"
    )


def _unix(code: str) -> str:
    return code.replace("\r\n", "\n")


def few_shot_prefix(rows: dict[int, dict]) -> str:
    """The three worked examples every prompt starts with."""
    shots = [f"{_describe(rows[i])}[BEGIN]\n{_unix(rows[i]['code'])}\n[DONE]\n" for i in SHOT_IDS]
    return "\n".join(shots) + "\n"


class MBPP(Task):
    name = "mbpp"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate("mbpp.jsonl", data_dir)
        rows: dict[int, dict] = {}
        for where, row in read_jsonl(path):
            task_id = require(row, "task_id", int, where)
            for field in ("text", "code", "test_setup_code"):
                require(row, field, str, where)
            require(row, "test_list", list, where)
            rows[task_id] = row
        missing = [i for i in (*SHOT_IDS, *EVAL_IDS) if i not in rows]
        if missing:
            raise ValueError(f"{path}: tasks {missing[:10]} missing")
        prefix = few_shot_prefix(rows)
        return [
            Problem(
                task_id=str(i),
                prompt=f"{prefix}{_describe(rows[i])}[BEGIN]\n",
                stop=STOP,
                reference=rows[i]["code"],
                data={"setup": rows[i]["test_setup_code"], "tests": rows[i]["test_list"]},
            )
            for i in EVAL_IDS
        ]

    def program(self, problem: Problem, completion: str) -> Program:
        tests = "\n".join(problem.data["tests"])
        # The setup code (2 tasks) builds test inputs from classes the solution defines.
        return Program("python", f"{completion}\n{problem.data['setup']}\n{tests}\n")
