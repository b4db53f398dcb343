"""The LeetCode contest set of DeepSeek-Coder (180 problems, Jul 2023 - Jan 2024), by difficulty."""

from __future__ import annotations

from pathlib import Path

from dsc_evals.data import locate, read_jsonl, require
from dsc_evals.outcome import Program
from dsc_evals.tasks.base import Problem, Task

# LeetCode's Python judge runs solutions with these names already imported.
PRELUDE = """\
from typing import *
from collections import *
from heapq import *
from bisect import *
from itertools import *
from functools import *
from math import *
import math
import re
import string
"""
# The prompt ends inside a method of `class Solution`; code back at column 0 ends the answer.
STOP = ("\nclass ", "\ndef ", "\nif __name__", "\n#", '\n"""', "\nmy_solution", "\nprint(")
DIFFICULTIES = ("Easy", "Medium", "Hard")


class LeetCode(Task):
    name = "leetcode"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        path = locate("leetcode-20240121-Jul.jsonl", data_dir)
        problems = []
        for where, row in read_jsonl(path):
            difficulty = require(require(row, "meta", dict, where), "difficulty", str, where)
            if difficulty not in DIFFICULTIES:
                raise ValueError(f"{where}: unknown difficulty {difficulty!r}")
            problems.append(
                Problem(
                    task_id=require(row, "task_id", str, where),
                    prompt=require(row, "prompt", str, where),
                    stop=STOP,
                    group=difficulty,
                    data={"test": require(row, "test", str, where)},
                )
            )
        return problems

    def program(self, problem: Problem, completion: str) -> Program:
        return Program(
            "python", PRELUDE + problem.prompt + completion + "\n" + problem.data["test"]
        )
