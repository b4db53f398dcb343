"""The harness self-check: the benchmarks' own reference solutions must pass under our engine."""

from __future__ import annotations

import json

import pytest

from dsc_evals.cli import main
from dsc_evals.config import ExecConfig
from dsc_evals.execution import Engine
from dsc_evals.runner import evaluate, reference_completer
from dsc_evals.tasks.humaneval import HumanEvalPython
from dsc_evals.tasks.infilling import HumanEvalInfilling
from dsc_evals.tasks.mbpp import MBPP, known_bad_references
from dsc_evals.tasks.santacoder_fim import SantaCoderFim


def references(task, problems):
    completions = reference_completer(task, problems)
    assert not isinstance(completions, str)
    return completions


def test_humaneval_references_score_164_of_164_from_the_wheel_and_the_data_dir(
    engine, benchmarks_dir
):
    task = HumanEvalPython()
    for data_dir in (None, benchmarks_dir):
        problems = task.problems(data_dir)
        records, scores = evaluate(task, problems, references(task, problems), engine, (1,))
        failing = [
            (r["task_id"], r["outcome"], r["stderr_tail"]) for r in records if not r["passed"]
        ]
        assert failing == []
        assert (scores["problems"], scores["pass@1"]) == (164, 1.0)


def test_mbpp_references_pass_except_the_listed_bad_ones(benchmarks_dir):
    task = MBPP()
    problems = task.problems(benchmarks_dir)
    # The default limits, as a real run has: task 123's reference needs several CPU seconds.
    with Engine(ExecConfig(workers=2)) as engine:
        records, _ = evaluate(task, problems, references(task, problems), engine, (1,))
    failing = {int(r["task_id"]) for r in records if not r["passed"]}
    assert failing == set(known_bad_references())


def test_santacoder_fim_references_all_match_in_each_language(engine, benchmarks_dir):
    task = SantaCoderFim()
    problems = task.problems(benchmarks_dir)
    _, scores = evaluate(task, problems, references(task, problems), engine, (1,))
    assert scores["by_group"] == {"java": 1.0, "js": 1.0, "py": 1.0}
    assert (scores["problems"], scores["group_mean"], scores["exact_match"]) == (4792, 1.0, 1.0)
    assert scores["outcomes"] == {"not_executed": 4792}


# Four items spread over each set (the full sets, 8652 programs, are the `selfcheck` command's).
@pytest.mark.parametrize(
    ("variant", "size"),
    [
        ("single-line", 1033),
        ("multi-line", 5815),
        ("random-span", 1640),
        ("random-span-light", 164),
    ],
)
def test_humaneval_infilling_references_match_and_pass(engine, benchmarks_dir, variant, size):
    task = HumanEvalInfilling(variant)
    problems = task.problems(benchmarks_dir)
    assert len(problems) == size
    sample = problems[:: size // 3][:4]
    records, scores = evaluate(task, sample, references(task, sample), engine, (1,))
    assert [r["stderr_tail"] for r in records if not r["passed"]] == []
    assert (scores["problems"], scores["pass@1"], scores["exact_match"]) == (4, 1.0, 1.0)


def test_selfcheck_command_skips_tasks_without_references(tmp_path, benchmarks_dir, capsys):
    out = tmp_path / "selfcheck"
    args = ["selfcheck", "--tasks", "humaneval,leetcode", "--out", str(out), "--limit", "5"]
    assert main([*args, "--data-dir", str(benchmarks_dir)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["humaneval"]["pass@1"] == 1.0
    assert summary["tasks"]["leetcode"] == {"skipped": "leetcode has no reference solutions"}
    assert "skipped" in capsys.readouterr().out


def test_outputs_are_byte_identical_whatever_the_worker_count(tmp_path, benchmarks_dir):
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        args = ["selfcheck", "--tasks", "humaneval,mbpp", "--limit", "15", "--out", str(out)]
        assert main([*args, "--workers", workers, "--data-dir", str(benchmarks_dir)]) == 0
        outputs.append(
            [
                (out / name).read_bytes()
                for name in ("humaneval.jsonl", "mbpp.jsonl", "summary.json")
            ]
        )
    assert outputs[0] == outputs[1]


def write_samples(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_score_command_gives_what_run_gives_for_the_same_completions(tmp_path, benchmarks_dir):
    problems = HumanEvalPython().problems(benchmarks_dir)[:4]
    rows = [{"task_id": p.task_id, "completion": p.reference} for p in problems]
    rows += [{"task_id": problems[0].task_id, "completion": "    import os; os._exit(0)\n"}]
    samples = write_samples(tmp_path / "samples.jsonl", rows)
    common = ["--limit", "4", "--workers", "2", "--data-dir", str(benchmarks_dir)]
    scored, checked = tmp_path / "scored", tmp_path / "checked"
    args = ["score", "--task", "humaneval", "--samples", str(samples), "--out", str(scored)]
    assert main([*args, *common]) == 0
    assert main(["selfcheck", "--tasks", "humaneval", "--out", str(checked), *common]) == 0
    records = [json.loads(line) for line in (scored / "humaneval.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in records] == [True, False, True, True, True]
    by_id = sorted(records[:1] + records[2:], key=lambda r: r["task_id"])
    expected = [json.loads(line) for line in (checked / "humaneval.jsonl").read_text().splitlines()]
    assert by_id == sorted(expected, key=lambda r: r["task_id"])
    summary = json.loads((scored / "summary.json").read_text())
    assert summary["tasks"]["humaneval"]["problems"] == 4
    assert summary["tasks"]["humaneval"]["samples"] == 5


def test_score_command_grades_the_infilling_tasks(tmp_path, benchmarks_dir):
    common = ["--limit", "2", "--workers", "1", "--data-dir", str(benchmarks_dir)]
    for task, wrong in (
        (SantaCoderFim(), "pass"),
        (HumanEvalInfilling("random-span-light"), "    return []\n"),
    ):
        problems = task.problems(benchmarks_dir)[:2]
        rows = [{"task_id": p.task_id, "completion": p.reference} for p in problems]
        rows.append({"task_id": problems[1].task_id, "completion": wrong})
        samples = write_samples(tmp_path / f"{task.name}.samples.jsonl", rows)
        out = tmp_path / task.name
        args = ["score", "--task", task.name, "--samples", str(samples), "--out", str(out)]
        assert main([*args, *common]) == 0
        lines = (out / f"{task.name}.jsonl").read_text().splitlines()
        assert [json.loads(line)["passed"] for line in lines] == [True, True, False]
        scores = json.loads((out / "summary.json").read_text())["tasks"][task.name]
        assert (scores["problems"], scores["pass@1"]) == (2, 0.75)


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([{"task_id": "HumanEval/0"}], r"samples\.jsonl:1: missing field 'completion'"),
        (
            [{"task_id": "HumanEval/0", "completion": ""}, {"task_id": "X/1", "completion": ""}],
            r"samples\.jsonl:2: task_id is not a humaneval problem",
        ),
        ([{"task_id": "HumanEval/0", "completion": ""}], r"no samples for 163 of the 164"),
    ],
)
def test_score_names_the_bad_sample(tmp_path, benchmarks_dir, rows, error):
    samples = write_samples(tmp_path / "samples.jsonl", rows)
    args = ["score", "--task", "humaneval", "--samples", str(samples), "--out", str(tmp_path)]
    with pytest.raises(ValueError, match=error):
        main([*args, "--data-dir", str(benchmarks_dir), "--workers", "1"])
