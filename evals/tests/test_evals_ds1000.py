"""DS-1000: loading, the harness's post-processing, and grading in the separate runtime."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import replace

import pytest

from dsc_evals.config import ExecConfig
from dsc_evals.ds1000_runtime import interpreter, runtime_dir
from dsc_evals.execution import Engine
from dsc_evals.runner import RunConfig, evaluate, reference_completer, run
from dsc_evals.tasks.ds1000 import DS1000, clean

LIBRARIES = ("Pandas", "Numpy", "Matplotlib", "Sklearn", "Scipy", "Pytorch", "Tensorflow")


def test_all_1000_problems_load_with_their_library_and_stop_strings(benchmarks_dir):
    problems = DS1000().problems(benchmarks_dir)
    assert Counter(p.group for p in problems) == {
        "Pandas": 291,
        "Numpy": 220,
        "Matplotlib": 155,
        "Sklearn": 115,
        "Scipy": 106,
        "Pytorch": 68,
        "Tensorflow": 45,
    }
    assert problems[0].task_id == "DS1000/0" and problems[-1].task_id == "DS1000/999"
    assert problems[0].stop == ("</code>", "# SOLUTION END")
    assert problems[0].prompt.endswith("BEGIN SOLUTION\n<code>\n")


def test_a_bad_row_is_named(tmp_path, benchmarks_dir):
    lines = (benchmarks_dir / "ds1000.jsonl").read_text().splitlines()[:2]
    rows = [json.loads(line) for line in lines]
    rows[1]["metadata"]["perturbation_type"] = "Other"
    (tmp_path / "ds1000.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ValueError, match=r"ds1000\.jsonl:2: perturbation_type 'Other' is unknown"):
        DS1000().problems(tmp_path)


def test_completions_are_cut_as_the_public_harness_cuts_them():
    assert clean("```python\nresult = 1\n```\nmore") == "\nresult = 1\n"
    assert clean("<code>result = 1\n</code>\ntext") == "result = 1\n"
    assert clean("result = 1\nEND SOLUTION\nx = 2") == "result = 1"


def test_without_a_runtime_the_task_is_skipped_with_the_command_to_build_it(
    tmp_path, monkeypatch, benchmarks_dir
):
    monkeypatch.setenv("DSC_DS1000_RUNTIME", str(tmp_path / "absent"))
    config = RunConfig(
        tasks=("ds1000",), out=tmp_path, data_dir=benchmarks_dir, execution=ExecConfig(workers=1)
    )
    summary = run(config, reference_completer, None)
    assert "python -m dsc_evals setup ds1000" in summary["tasks"]["ds1000"]["skipped"]


def missing_modules(python: str, source: str) -> list[str]:
    """The top-level modules ``source`` imports that ``python`` cannot import."""
    names = sorted(set(re.findall(r"^\s*(?:import|from)\s+(\w+)", source, re.MULTILINE)))
    missing = []
    for name in names:
        found = subprocess.run([python, "-c", f"import {name}"], capture_output=True, check=False)
        if found.returncode != 0:
            missing.append(name)
    return missing


@pytest.fixture(scope="module")
def runtime_engine(engine):
    python = interpreter(runtime_dir())
    if not python.exists():
        pytest.skip(f"no DS-1000 runtime at {python}: python -m dsc_evals setup ds1000")
    with Engine(replace(engine.config, python=str(python))) as own:
        yield own


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_reference_passes_and_a_wrong_answer_fails_per_library(
    runtime_engine, benchmarks_dir, library
):
    task = DS1000()
    problem = next(p for p in task.problems(benchmarks_dir) if p.group == library)
    missing = missing_modules(runtime_engine.config.python, problem.data["context"])
    if missing:
        pytest.skip(f"the DS-1000 runtime lacks {', '.join(missing)} ({problem.task_id})")
    wrong = "result = None\nprint(1)\n"
    records, _ = evaluate(task, [problem], [[problem.reference or "", wrong]], runtime_engine, (1,))
    assert [r["passed"] for r in records] == [True, False], records[0]["stderr_tail"]
