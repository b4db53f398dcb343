"""Cross-file line completion in Python, Java, TypeScript and C#, in CrossCodeEval's record schema
(Ding et al., NeurIPS 2023 D&B): CrossCodeEval itself (the paper's repository-level figure,
DeepSeek-Coder §4) and our own set of the same method (``python -m dsc_evals crossfile build``).

A record holds ``prompt`` (the file up to the completion point), ``groundtruth`` (the line to
write), ``right_context``, ``metadata.task_id`` and, for retrieval, ``crossfile_context.list``:
chunks of other files (``retrieved_chunk``, ``filename``, ``score``), best first. Without retrieval
the model sees the prompt alone. With it, the chunks come first as comments in the language's
comment syntax, as the harness's ``eval.py`` builds them: a header line, then per chunk a line
naming its file and its non-blank lines commented, while the chunks fit ``crossfile`` tokens; the
in-file prompt keeps as many of its last lines as fit the rest of ``max_sequence - max_new``
tokens (the harness cuts it token-exact; we cut at line starts). Nothing is run: completions are
graded by :mod:`dsc_evals.crossfile_metrics`, and ``passed`` is the exact match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsc_evals.crossfile_metrics import LANGUAGES, check_language, score_completion
from dsc_evals.data import locate, locate_built, read_jsonl, require
from dsc_evals.models import estimate_tokens
from dsc_evals.outcome import ExecResult, Program
from dsc_evals.tasks.base import Problem, Task

BUILT_FILE = "crossfile.jsonl"  # in the data directory
COMMENT = {"python": "#", "java": "//", "typescript": "//", "csharp": "//"}
HEADER = "Here are some relevant code fragments from other files of the repo:"


@dataclass(frozen=True)
class PromptBudget:
    """The paper's setting (DeepSeek-Coder §4: 2048 tokens in all, 50 new, 512 of cross-file
    context), counted by the model's tokenizer."""

    count_tokens: Callable[[str], int] = estimate_tokens
    max_sequence: int = 2048
    max_new: int = 50
    crossfile: int = 512

    def __post_init__(self) -> None:
        if not 0 < self.crossfile < self.max_sequence:
            raise ValueError("PromptBudget needs 0 < crossfile < max_sequence")


def crossfile_text(chunks: list[dict[str, Any]], language: str, budget: PromptBudget) -> str:
    """The retrieved chunks as comments, best first, as many as fit ``budget.crossfile``."""
    mark = COMMENT[language]
    header = f"{mark} {HEADER}\n\n"
    used = budget.count_tokens(header)
    parts = []
    for chunk in chunks:
        lines = [f"{mark} {line}" for line in chunk["retrieved_chunk"].split("\n") if line]
        part = f"{mark} the below code fragment is found in {chunk['filename']}\n"
        part += "\n".join(lines) + "\n\n"
        cost = budget.count_tokens(part)
        if used + cost > budget.crossfile:
            break
        parts.append(part)
        used += cost
    return header + "".join(parts) if parts else ""


def keep_last_lines(text: str, tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The longest suffix of ``text`` starting at a line start with at most ``tokens`` tokens."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n" and i + 1 < len(text)]
    low, high = 0, len(starts)  # binary search for the first start whose suffix fits
    while low < high:
        middle = (low + high) // 2
        if count_tokens(text[starts[middle] :]) <= tokens:
            high = middle
        else:
            low = middle + 1
    return text[starts[low] :] if low < len(starts) else ""


def _chunks(row: dict[str, Any], where: str) -> list[dict[str, Any]]:
    context = require(row, "crossfile_context", dict, where)
    chunks = require(context, "list", list, f"{where}: crossfile_context")
    for number, chunk in enumerate(chunks):
        at = f"{where}: crossfile_context.list[{number}]"
        if not isinstance(chunk, dict):
            raise ValueError(f"{at}: expected a JSON object")
        require(chunk, "retrieved_chunk", str, at)
        require(chunk, "filename", str, at)
    return chunks


def load_records(
    path: Path, language: str | None, retrieval: bool, budget: PromptBudget
) -> list[Problem]:
    """The records of ``path`` as problems. ``language`` is the file's (CrossCodeEval keeps one
    file per language); None reads each record's ``metadata.language`` (our mixed file)."""
    problems = []
    for where, row in read_jsonl(path):
        prompt = require(row, "prompt", str, where)
        groundtruth = require(row, "groundtruth", str, where)
        require(row, "right_context", str, where)
        metadata = require(row, "metadata", dict, where)
        task_id = require(metadata, "task_id", str, f"{where}: metadata")
        lang = language or require(metadata, "language", str, f"{where}: metadata")
        try:
            check_language(lang)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        shown = prompt
        if retrieval:
            context = crossfile_text(_chunks(row, where), lang, budget)
            room = max(budget.max_sequence - budget.max_new - budget.count_tokens(context), 0)
            shown = context + keep_last_lines(prompt, room, budget.count_tokens)
        problems.append(
            Problem(
                task_id=task_id if language is None else f"{language}/{task_id}",
                prompt=shown,
                # As in the harness: a fixed number of new tokens (--max-new-tokens 50 is the
                # paper's), then the first statement is kept; no stop string.
                stop=(),
                reference=groundtruth,
                group=lang,
                data={"prompt": prompt, "language": lang},
            )
        )
    return problems


class CrossFileTask(Task):
    language = None  # graded on the text: nothing runs
    group_mean = True  # the paper's figure is the mean over the four languages

    def __init__(self, retrieval: bool, budget: PromptBudget | None = None) -> None:
        self.retrieval = retrieval
        self.budget = budget or PromptBudget()

    def program(self, problem: Problem, completion: str) -> Program | None:
        return None

    def grade(
        self, problem: Problem, completion: str, result: ExecResult
    ) -> dict[str, bool | float]:
        scores = score_completion(
            problem.data["prompt"], completion, problem.reference or "", problem.data["language"]
        )
        return {"passed": scores.exact_match, **vars(scores)}


class CrossCodeEval(CrossFileTask):
    """The public benchmark: ``crosscodeeval_data/<lang>/line_completion.jsonl`` (no retrieval) or
    ``line_completion_rg1_bm25.jsonl`` (the BM25 chunks of the last 10 prompt lines)."""

    def __init__(self, retrieval: bool, budget: PromptBudget | None = None) -> None:
        super().__init__(retrieval, budget)
        self.name = "crosscodeeval-bm25" if retrieval else "crosscodeeval-no-retrieval"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        file = "line_completion_rg1_bm25.jsonl" if self.retrieval else "line_completion.jsonl"
        return [
            problem
            for language in LANGUAGES
            for problem in load_records(
                locate(f"crosscodeeval_data/{language}/{file}", data_dir),
                language,
                self.retrieval,
                self.budget,
            )
        ]


class OurCrossFile(CrossFileTask):
    """Our benchmark of the same method over any repositories: ``crossfile.jsonl`` in the data
    directory, written by ``python -m dsc_evals crossfile build``. Not CrossCodeEval."""

    def __init__(self, retrieval: bool, budget: PromptBudget | None = None) -> None:
        super().__init__(retrieval, budget)
        self.name = "crossfile" if retrieval else "crossfile-no-retrieval"

    def problems(self, data_dir: Path | None) -> list[Problem]:
        return load_records(locate_built(BUILT_FILE, data_dir), None, self.retrieval, self.budget)
