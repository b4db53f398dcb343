"""What running one program produced."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(Enum):
    PASSED = "passed"
    FAILED = "failed"  # ran and exited non-zero (or printed the language's failure marker)
    TIMEOUT = "timeout"  # wall clock or CPU limit reached; the whole process group was killed
    COMPILE_ERROR = "compile_error"
    SANDBOX_VIOLATION = "sandbox_violation"  # killed its supervisor or left processes behind
    NOT_EXECUTED = "not_executed"  # the task grades the completion's text (exact match)


@dataclass(frozen=True)
class Program:
    """An untrusted program: the complete source file in one language."""

    language: str
    source: str


@dataclass(frozen=True)
class ExecResult:
    outcome: Outcome
    returncode: int | None
    stdout_tail: str
    stderr_tail: str
    seconds: float
    detail: str = ""  # why, in words, when the outcome alone does not say

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED
