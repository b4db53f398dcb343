from __future__ import annotations

import json

import pytest

from dsc.special_tokens import FIM_BEGIN, FIM_END, FIM_HOLE
from dsc_evals.answers import gsm8k_gold, last_boxed, math_equivalent, numbers_equal, to_number
from dsc_evals.config import ExecConfig
from dsc_evals.data import locate, read_jsonl
from dsc_evals.execution import NO_END
from dsc_evals.fim import FimFormat
from dsc_evals.report import table
from dsc_evals.runner import RunConfig, evaluate, expand_tasks, reference_completer, run
from dsc_evals.tasks.humaneval import MULTIPLE_LANGUAGES, HumanEvalMultiPLE, HumanEvalPython
from dsc_evals.tasks.infilling import HumanEvalInfilling
from dsc_evals.tasks.leetcode import LeetCode
from dsc_evals.tasks.mbpp import MBPP
from dsc_evals.tasks.pal import GSM8K, MATH
from dsc_evals.tasks.santacoder_fim import SantaCoderFim


def test_mbpp_prompt_has_tasks_2_to_4_as_shots_and_evaluates_11_to_510(benchmarks_dir):
    rows = {r["task_id"]: r for _, r in read_jsonl(benchmarks_dir / "mbpp.jsonl")}
    problems = MBPP().problems(benchmarks_dir)
    assert [p.task_id for p in problems] == [str(i) for i in range(11, 511)]
    prompt = problems[0].prompt
    positions = [prompt.index(rows[i]["text"]) for i in (2, 3, 4, 11)]
    assert positions == sorted(positions)
    assert prompt.count("[BEGIN]") == 4 and prompt.count("[DONE]") == 3
    assert prompt.endswith(rows[11]["test_list"][-1] + "\n[BEGIN]\n")
    assert rows[1]["text"] not in prompt and problems[0].stop == ("[DONE]",)


def test_multipl_e_stop_tokens_come_from_each_item(benchmarks_dir):
    for language in MULTIPLE_LANGUAGES:
        problems = HumanEvalMultiPLE(language).problems(benchmarks_dir)
        rows = [r for _, r in read_jsonl(benchmarks_dir / f"humaneval-{language}.jsonl")]
        assert len(problems) == len(rows) > 150
        assert [p.stop for p in problems] == [tuple(r["stop_tokens"]) for r in rows]


def test_leetcode_scores_by_difficulty(engine, benchmarks_dir):
    task = LeetCode()
    problems = task.problems(benchmarks_dir)
    assert len(problems) == 180
    assert {g: sum(p.group == g for p in problems) for g in ("Easy", "Medium", "Hard")} == {
        "Easy": 45,
        "Medium": 91,
        "Hard": 44,
    }
    first = problems[0]  # minimum pushes: 8 keys, each extra round of letters costs one more
    right = "        return sum(i // 8 + 1 for i in range(len(word)))\n"
    _, scores = evaluate(task, [first], [[right, "        return 0\n"]], engine, (1,))
    assert scores["pass@1"] == 0.5
    assert scores["by_group"] == {first.group: 0.5}


def test_gsm8k_pal_program_is_run_and_its_answer_graded(engine, benchmarks_dir):
    task = GSM8K()
    [first] = task.problems(benchmarks_dir)[:1]
    assert first.data["answer"] == "18"
    right = "    return (16 - 3 - 4) * 2\n"
    records, _ = evaluate(task, [first], [[right, "    return 17\n", "    1/0\n"]], engine, (1,))
    assert [r["passed"] for r in records] == [True, False, False]
    assert records[0]["stdout_tail"] == "18\n"


def test_math_pal_accepts_an_equivalent_form(engine, benchmarks_dir):
    task = MATH()
    problems = task.problems(benchmarks_dir)
    assert len(problems) == 5000
    first = problems[0]  # vertical asymptotes of 2/(x^2+x-6): \boxed{2}
    assert first.data["answer"] == "2" and first.group == "Algebra"
    completions = [["    return 2.0\n", "    return 3\n"]]
    records, _ = evaluate(task, [first], completions, engine, (1,))
    assert [r["passed"] for r in records] == [True, False]


def first_return_line(problems):
    """An infilling item whose masked lines start with a top-level ``return`` of the body."""
    return next(p for p in problems if (p.reference or "").startswith("    return "))


@pytest.mark.parametrize(
    ("task", "pick", "completion"),
    [
        (HumanEvalPython(), lambda ps: ps[0], "    exit()\n"),
        (MBPP(), lambda ps: ps[0], "import sys\nsys.exit(0)\n"),
        (LeetCode(), lambda ps: ps[0], "        import os; os._exit(0)\n"),
        (GSM8K(), lambda ps: ps[0], "    print(18)\n    import os\n    os._exit(0)\n"),
        (HumanEvalInfilling("single-line"), first_return_line, "    raise SystemExit(0)"),
        (HumanEvalInfilling("multi-line"), first_return_line, "    import os; os._exit(0)\n"),
    ],
    ids=["humaneval", "mbpp", "leetcode", "gsm8k-pal", "infilling", "infilling-multi"],
)
def test_every_task_fails_a_sample_that_exits_0_before_its_tests_end(
    engine, benchmarks_dir, task, pick, completion
):
    problem = pick(task.problems(benchmarks_dir))
    [record], _ = evaluate(task, [problem], [[completion]], engine, (1,))
    assert (record["passed"], record["returncode"], record["detail"]) == (False, 0, NO_END)


@pytest.mark.parametrize(
    ("predicted", "gold", "equal"),
    [
        ("0.5", r"\frac12", True),
        ("1/2", r"\dfrac{1}{2}", True),
        ("sqrt(2)/2", r"\frac{\sqrt{2}}{2}", True),
        ("x = 5", "5", True),
        ("10.0", "10", True),
        (r"5\text{ cm}", "5", True),
        ("(1,2)", "(1, 2)", True),
        ("3", "4", False),
        ("", "0", False),
        ("__import__('os').system('true')", "0", False),
    ],
)
def test_math_equivalence(predicted, gold, equal):
    assert math_equivalent(predicted, gold) is equal


def test_numbers_are_read_without_evaluating_code():
    assert to_number("2**1000000") is None
    assert to_number("open('/etc/passwd')") is None
    assert numbers_equal("1,234", "1234")
    assert gsm8k_gold("so\n#### 1,234") == "1234"
    assert last_boxed(r"so $\boxed{\frac{1}{2}}$ and") == r"\frac{1}{2}"


def test_infilling_prompts_use_the_tokenizers_sentinels_or_configured_ones(benchmarks_dir):
    rows = [r for _, r in read_jsonl(benchmarks_dir / "santacoder-fim-java.jsonl")]
    problems = [p for p in SantaCoderFim().problems(benchmarks_dir) if p.group == "java"]
    assert len(problems) == len(rows) == 1780 and problems[0].stop == ()
    assert (
        problems[0].prompt
        == f"{FIM_BEGIN}{rows[0]['prompt']}{FIM_HOLE}{rows[0]['suffix']}{FIM_END}"
    )
    [single] = HumanEvalInfilling("single-line").problems(benchmarks_dir)[:1]
    assert single.prompt.startswith(f"{FIM_BEGIN}from typing import List") and single.stop == (
        "\n",
    )
    custom = HumanEvalInfilling(
        "multi-line", FimFormat("<fim_prefix>", "<fim_suffix>", "<fim_middle>")
    )
    [multi] = custom.problems(benchmarks_dir)[:1]
    assert multi.prompt.startswith("<fim_prefix>from typing") and multi.stop == ()


def test_humaneval_infilling_grades_exact_match_and_execution(engine, benchmarks_dir):
    task = HumanEvalInfilling("single-line")
    problem = task.problems(benchmarks_dir)[0]  # "    for idx, elem in enumerate(numbers):\n"
    equivalent = "    for idx, elem in list(enumerate(numbers)):"
    # Samples made elsewhere may run past the line: only the first line fills the hole.
    completions = [equivalent, (problem.reference or "") + "    pass\n", "    for idx in numbers:"]
    records, _ = evaluate(task, [problem], [completions], engine, (1,))
    assert [(r["exact_match"], r["passed"]) for r in records] == [
        (False, True),
        (True, True),
        (False, False),
    ]


def test_santacoder_fim_exact_match_per_language_and_their_mean(engine, benchmarks_dir):
    task = SantaCoderFim()
    by_language = {
        language: [p for p in task.problems(benchmarks_dir) if p.group == language][:3]
        for language in ("py", "java", "js")
    }
    problems = by_language["py"] + by_language["java"][:1] + by_language["js"][:2]
    right = [[p.reference or ""] for p in problems]
    # Surrounding whitespace does not count (the middle may start with the prefix's line break).
    right[0] = ["\n" + right[0][0] + "  \n"]
    right[3] = ["return null;"]
    right[5] = [right[5][0] + " // done"]
    records, scores = evaluate(task, problems, right, engine, (1,))
    assert [r["exact_match"] for r in records] == [True, True, True, False, True, False]
    assert scores["by_group"] == {"java": 0.0, "js": 0.5, "py": 1.0}
    assert scores["group_mean"] == 0.5 and scores["exact_match"] == 4 / 6
    assert {r["outcome"] for r in records} == {"not_executed"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            '{"language": "rb", "name": "x", "prompt": "", "suffix": "", "canonical_solution": ""}',
            r"santacoder-fim-py\.jsonl:2: language 'rb' is none of py, java, js",
        ),
        (
            '{"language": "py", "name": "x", "prompt": "", "suffix": ""}',
            r"santacoder-fim-py\.jsonl:2: missing field 'canonical_solution'",
        ),
    ],
)
def test_a_bad_santacoder_fim_row_is_named(tmp_path, benchmarks_dir, line, error):
    good = (benchmarks_dir / "santacoder-fim-py.jsonl").read_text().splitlines()[0]
    (tmp_path / "santacoder-fim-py.jsonl").write_text(f"{good}\n{line}\n")
    with pytest.raises(ValueError, match=error):
        SantaCoderFim().problems(tmp_path)


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text('{"task_id": 1}\n{not json\n')
    with pytest.raises(ValueError, match=r"mbpp.jsonl:2: not valid JSON"):
        read_jsonl(path)
    path.write_text('{"task_id": 1}\n')
    with pytest.raises(ValueError, match=r"mbpp.jsonl:1: missing field 'text'"):
        MBPP().problems(tmp_path)
    # The line in the file, not the row's position: blank lines count.
    path.write_text('\n\n{"task_id": 1}\n')
    with pytest.raises(ValueError, match=r"mbpp.jsonl:3: missing field 'text'"):
        MBPP().problems(tmp_path)


def test_missing_file_in_the_data_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"humaneval-cpp\.jsonl not found"):
        locate("humaneval-cpp.jsonl", tmp_path)


def test_task_aliases_expand_in_order():
    assert expand_tasks("mbpp,humaneval-multi,mbpp")[:3] == (
        "mbpp",
        "humaneval-cpp",
        "humaneval-java",
    )
    # 8 HumanEval languages, 4 more, 5 infilling sets, DS-1000, 2 CrossCodeEval, bits per byte
    assert len(expand_tasks("all")) == 21
    assert expand_tasks("humaneval-infilling")[-1] == "humaneval-infilling-random-span-light"


def test_table_puts_scores_beside_the_papers_figures():
    tasks = {f"humaneval-{lang}": {"pass@1": 0.25} for lang in MULTIPLE_LANGUAGES}
    tasks["humaneval"] = {"pass@1": 0.5}
    tasks["leetcode"] = {"pass@1": 0.1, "by_group": {"Easy": 0.3}}
    tasks["bpb"] = {"skipped": "no held-out files given (--bpb-files)"}
    tasks["infilling-single-line"] = {"group_mean": 0.75, "by_group": {"py": 0.5}}
    text = table({"tasks": tasks})
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert "50.0" in lines["humaneval"] and "Base 33B 56.1" in lines["humaneval"]
    assert "28.1" in lines["humaneval-avg"] and "Base 1.3B 28.3" in lines["humaneval-avg"]
    assert "Instruct 33B 27.8" in lines["leetcode"] and "30.0" in lines["leetcode/Easy"]
    assert "skipped" in lines["bpb"]
    assert "75.0" in lines["infilling-single-line"] and "33B 81.2" in lines["infilling-single-line"]
    json.dumps(tasks)  # the summary stays JSON-serialisable


def test_a_missing_toolchain_skips_its_language_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr("dsc_evals.languages.SANDBOX_ENV", {"PATH": "/nonexistent"})
    config = RunConfig(tasks=("humaneval-cpp",), out=tmp_path, execution=ExecConfig(workers=1))
    summary = run(config, reference_completer, None)
    reason = summary["tasks"]["humaneval-cpp"]["skipped"]
    assert reason.startswith("cpp toolchain missing: 'g++' not found")
    assert "skipped" in table(summary)
