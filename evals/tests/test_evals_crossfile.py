"""Cross-file completion: CrossCodeEval's metrics, its record schema and prompts, our generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_evals.cli import main
from dsc_evals.crossfile_build import BuildConfig, build
from dsc_evals.crossfile_metrics import (
    LANGUAGES,
    edit_similarity,
    first_statement,
    identifier_f1,
    identifiers,
    remove_comments,
    score_completion,
)
from dsc_evals.runner import NOT_EXECUTED, reference_completer
from dsc_evals.tasks.crossfile import (
    CrossCodeEval,
    OurCrossFile,
    PromptBudget,
    crossfile_text,
    keep_last_lines,
    load_records,
)

names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
code = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@given(code, code)
def test_edit_similarity_is_a_symmetric_score_in_0_1(a, b):
    assert 0.0 <= edit_similarity(a, b) <= 1.0
    assert edit_similarity(a, b) == edit_similarity(b, a)
    assert edit_similarity(a, a) == 1.0
    assert edit_similarity(f"  {a}\n", a) == 1.0  # the stripped strings are compared


@given(code, code)
def test_edit_similarity_is_below_1_for_different_stripped_strings(a, b):
    if a.strip() != b.strip():
        assert edit_similarity(a, b) < 1.0


@given(st.lists(names), st.lists(names))
def test_identifier_f1_is_symmetric_over_sets_and_1_for_the_same_identifiers(a, b):
    assert 0.0 <= identifier_f1(a, b) <= 1.0
    assert identifier_f1(a, b) == identifier_f1(b, a)
    assert identifier_f1(a, a) == (1.0 if a else 0.0)  # the harness scores two empty sets 0
    assert identifier_f1(a, list(reversed(a)) + a) == identifier_f1(a, a)
    if set(a).isdisjoint(b):
        assert identifier_f1(a, b) == 0.0


@given(st.sampled_from(LANGUAGES), st.lists(names, min_size=1, max_size=5))
def test_a_completion_equal_to_its_ground_truth_scores_1_on_every_metric(language, words):
    line = f"{words[0]} = call({', '.join(words)});"
    scores = score_completion("x = 1\n", line + "\nrest()", line, language)
    assert scores.exact_match and scores.identifier_exact_match
    assert scores.edit_similarity == 1.0
    keywords_only = not identifiers(line, language)
    assert scores.identifier_f1 == (0.0 if keywords_only else 1.0)


def test_identifiers_drop_strings_keywords_and_numbers():
    assert identifiers('return self.get(url, "a b", 2, x2)', "python") == [
        "self",
        "get",
        "url",
        "x2",
    ]
    assert identifiers("public static int size(Map<K, V> m)", "java") == [
        "size",
        "Map",
        "K",
        "V",
        "m",
    ]
    assert identifiers("const x: number = await f(y)", "typescript") == [
        "x",
        "number",
        "await",
        "f",
        "y",
    ]


def test_the_first_statement_is_what_the_harness_keeps():
    python = "def f():\n    x = "
    assert first_statement(python, "g(1,\n      2)\n    y = 3\n", "python") == "g(1,\n      2)"
    assert first_statement(python, 'g("""a\nb""")  # done\nz', "python") == 'g("""a\nb""")  # done'
    assert first_statement(python, "g(1,", "python") == "g(1,"  # never closed: kept whole
    assert first_statement("", "\n\nreturn 1\nx", "python") == "\n\nreturn 1"
    assert first_statement("int x = ", "f(a); int y;", "java") == "f(a);"
    assert first_statement("", "if (a) {\n b();", "csharp") == "if (a) {"
    assert first_statement("", "x + y", "typescript") == "x + y"
    # The harness's comment removal is language-blind and ignores strings; so is ours.
    assert remove_comments("a = b // c  # d\nurl = 'http://x'") == "a = b \nurl = 'http:"
    with pytest.raises(ValueError, match="kotlin"):
        first_statement("", "x", "kotlin")


def _row(task_id: str, prompt: str, groundtruth: str, chunks: list[dict] | None) -> dict:
    row = {
        "prompt": prompt,
        "groundtruth": groundtruth,
        "right_context": "\n}\n",
        "metadata": {"task_id": task_id, "repository": "r", "file": "a"},
    }
    if chunks is not None:
        row["crossfile_context"] = {"text": "", "list": chunks}
    return row


CHUNKS = [
    {
        "retrieved_chunk": "def helper(a):\n\n    return a + 1",
        "filename": "pkg/util.py",
        "score": 9.5,
    },
    {"retrieved_chunk": "class Other:\n    pass", "filename": "pkg/other.py", "score": 3.0},
]


@pytest.fixture
def cceval_dir(tmp_path) -> Path:
    """A data directory in CrossCodeEval's published layout, two records per language."""
    for language in LANGUAGES:
        folder = tmp_path / "crosscodeeval_data" / language
        folder.mkdir(parents=True)
        rows = [
            _row(f"project_cc_{language}/{i}", f"import x\nline{i}\ny = ", f"helper({i});", CHUNKS)
            for i in range(2)
        ]
        with_context = "".join(json.dumps(r) + "\n" for r in rows)
        (folder / "line_completion_rg1_bm25.jsonl").write_text(with_context)
        plain = [_row(r["metadata"]["task_id"], r["prompt"], r["groundtruth"], None) for r in rows]
        (folder / "line_completion.jsonl").write_text("".join(json.dumps(r) + "\n" for r in plain))
    return tmp_path


def test_the_retrieval_prompt_prepends_the_chunks_as_comments(cceval_dir):
    problems = CrossCodeEval(retrieval=True).problems(cceval_dir)
    assert [p.task_id for p in problems][:3] == [
        "python/project_cc_python/0",
        "python/project_cc_python/1",
        "java/project_cc_java/0",
    ]
    assert problems[0].prompt == (
        "# Here are some relevant code fragments from other files of the repo:\n\n"
        "# the below code fragment is found in pkg/util.py\n"
        "# def helper(a):\n#     return a + 1\n\n"
        "# the below code fragment is found in pkg/other.py\n"
        "# class Other:\n#     pass\n\n"
        "import x\nline0\ny = "
    )
    java = next(p for p in problems if p.group == "java")
    assert java.prompt.startswith("// Here are some") and "// def helper(a):" in java.prompt
    plain = CrossCodeEval(retrieval=False).problems(cceval_dir)
    assert [p.prompt for p in plain][:2] == ["import x\nline0\ny = ", "import x\nline1\ny = "]


def test_the_prompt_keeps_to_its_token_budget(tmp_path):
    def words(text: str) -> int:
        return len(text.split())

    # The header is 13 words, the first chunk 17, the second 14.
    assert crossfile_text(CHUNKS, "python", PromptBudget(words, crossfile=30)).count("# the") == 1
    assert crossfile_text(CHUNKS, "python", PromptBudget(words, crossfile=44)).count("# the") == 2
    assert crossfile_text(CHUNKS, "python", PromptBudget(words, crossfile=29)) == ""
    text = "a b\nc d\ne f\n"
    assert keep_last_lines(text, 4, words) == "c d\ne f\n"
    assert keep_last_lines(text, 1, words) == ""
    assert keep_last_lines(text, 9, words) == text
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(_row("t", text, "g", CHUNKS)) + "\n")
    budget = PromptBudget(words, max_sequence=36, max_new=2, crossfile=30)  # 4 words for the file
    (problem,) = load_records(path, "python", True, budget)
    assert problem.prompt.endswith(
        "pkg/util.py\n# def helper(a):\n#     return a + 1\n\nc d\ne f\n"
    )
    assert problem.data["prompt"] == text  # graded against the whole in-file prompt


def test_bad_records_are_named_by_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    row = _row("t", "p", "g", [{"filename": "f.py", "score": 1.0}])
    path.write_text("\n" + json.dumps(row) + "\n")
    with pytest.raises(
        ValueError,
        match=r"bad.jsonl:2: crossfile_context.list\[0\]: missing field 'retrieved_chunk'",
    ):
        load_records(path, "python", True, PromptBudget())
    assert len(load_records(path, "python", False, PromptBudget())) == 1  # no context needed
    del row["groundtruth"]
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: missing field 'groundtruth'"):
        load_records(path, "python", False, PromptBudget())
    path.write_text(json.dumps(_row("t", "p", "g", None)) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: metadata: missing field 'language'"):
        load_records(path, None, False, PromptBudget())


def test_score_grades_completions_made_elsewhere(cceval_dir, tmp_path):
    samples = tmp_path / "samples.jsonl"
    rows = []
    for language in LANGUAGES:
        rows.append(
            {"task_id": f"{language}/project_cc_{language}/0", "completion": "helper(0);\nmore"}
        )
        rows.append({"task_id": f"{language}/project_cc_{language}/1", "completion": "helper(7);"})
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    args = ["score", "--task", "crosscodeeval-bm25", "--samples", str(samples)]
    assert main([*args, "--data-dir", str(cceval_dir), "--out", str(out)]) == 0
    scores = json.loads((out / "summary.json").read_text())["tasks"]["crosscodeeval-bm25"]
    assert scores["exact_match"] == scores["group_mean"] == 0.5
    assert scores["identifier_exact_match"] == 1.0  # numbers are no identifiers
    assert scores["edit_similarity"] == pytest.approx(0.95)  # helper(7); against helper(1);
    assert scores["by_group"] == dict.fromkeys(sorted(LANGUAGES), 0.5)


@pytest.fixture(scope="module")
def built(repos_dir, tmp_path_factory) -> Path:
    """Our benchmark over two real repositories (Java and TypeScript)."""
    out = tmp_path_factory.mktemp("crossfile") / "crossfile.jsonl"
    build(repos_dir, out, BuildConfig(per_file=2), only=("commons-cli", "ky"))
    return out


def test_the_generator_finds_cross_file_uses_and_retrieves_other_files(built, repos_dir):
    rows = [json.loads(line) for line in built.read_text().splitlines()]
    languages = {r["metadata"]["language"] for r in rows}
    assert languages == {"java", "typescript"}
    for row in rows:
        meta = row["metadata"]
        source = (repos_dir / meta["repository"] / meta["file"]).read_text()
        assert source == row["prompt"] + row["groundtruth"] + row["right_context"]
        assert meta["crossfile_names"], meta
        assert set(meta["crossfile_names"]) <= set(
            identifiers(row["groundtruth"], meta["language"])
        )
        assert all(c["filename"] != meta["file"] for c in row["crossfile_context"]["list"])
    assert sum(bool(r["crossfile_context"]["list"]) for r in rows) > 0.9 * len(rows)
    per_file = {}
    for row in rows:
        per_file[row["metadata"]["file"]] = per_file.get(row["metadata"]["file"], 0) + 1
    assert max(per_file.values()) == 2


def test_the_generator_is_deterministic_and_its_task_loads(built, repos_dir, tmp_path):
    again = tmp_path / "crossfile.jsonl"
    build(repos_dir, again, BuildConfig(per_file=2), only=("ky", "commons-cli"))
    assert again.read_bytes() == built.read_bytes()
    other_seed = tmp_path / "seed1.jsonl"
    build(repos_dir, other_seed, BuildConfig(per_file=2, seed=1), only=("ky",))
    assert other_seed.read_bytes() != built.read_bytes()
    task = OurCrossFile(retrieval=True)
    problems = task.problems(built.parent)
    with_context = [p for p in problems if p.prompt.startswith("// Here are some")]
    assert len(with_context) > 0.9 * len(problems)
    references = reference_completer(task, problems)
    assert not isinstance(references, str)
    assert all(
        task.grade(p, r[0], NOT_EXECUTED)["exact_match"]
        for p, r in zip(problems, references, strict=True)
    )


def test_build_errors_name_the_missing_repository(repos_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-repo"):
        build(repos_dir, tmp_path / "x.jsonl", only=("no-such-repo",))
    with pytest.raises(ValueError, match="per_file"):
        BuildConfig(per_file=0)
