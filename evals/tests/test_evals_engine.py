from __future__ import annotations

import shutil
import sys

import pytest

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.endmarker import PREFIX
from dsc_evals.execution import NO_END, Engine
from dsc_evals.languages import LANGUAGES, detect_toolchains, missing_toolchain
from dsc_evals.outcome import Outcome, Program
from dsc_evals.sandbox import SANDBOX_ENV, probe
from dsc_evals.tasks.humaneval import HumanEvalMultiPLE

# HumanEval_53_add (add two numbers) in every MultiPL-E language: right, wrong, not compiling.
ADD = {
    "cpp": ("    return x + y;", "    return x - y;", "    return x +;"),
    "java": ("        return x + y;", "        return x - y;", "        return x +;"),
    "js": ("  return x + y;\n}", "  return x - y;\n}", "  return x +;\n}"),
    "ts": ("  return x + y;\n}", "  return x - y;\n}", "  return x + 'a';\n}"),
    "php": ("    return $x + $y;\n}", "    return $x - $y;\n}", "    return $x +;\n}"),
    "cs": ("        return x + y;", "        return x - y;", "        return x +;"),
    "sh": ("    echo $(( $1 + $2 ))", "    echo $(( $1 - $2 ))", "    echo $(( $1 + ))"),
}
COMPILED = {name for name, lang in LANGUAGES.items() if lang.compile}
# A wrong answer that ends the process with status 0 before (or while) the tests run: each must
# fail because the end marker after the last test is never printed.
EARLY_EXIT = {
    "cpp": [
        "    exit(0);",
        "    std::_Exit(0);",
        "    return x - y;\n}\nint f = (exit(0), 0);\nint g() {",
    ],
    "java": [
        "        System.exit(0); return x - y;",
        "        Runtime.getRuntime().halt(0); return 0;",
    ],
    "js": ["  process.exit(0);\n}", "  return x - y;\n}\nprocess.exit(0);"],
    "ts": ["  (globalThis as any).process.exit(0);\n  return 0;\n}"],
    "php": ["    exit(0);\n}", "    return $x - $y;\n}\ndie();"],
    "cs": ["        Environment.Exit(0); return 0;"],
    "sh": ["    echo $(( $1 - $2 ))\n}\nexit 0\ng() {"],
}


def test_python_outcomes_and_tails(engine):
    programs = [
        Program("python", "print('ok')"),
        Program("python", "import sys\nprint('boom', file=sys.stderr)\nraise SystemExit(3)"),
        Program("python", "def f(:\n"),
        Program("python", "while True:\n    pass"),
    ]
    ok, failed, syntax, looping = engine.run(programs)
    assert (ok.outcome, ok.stdout_tail) == (Outcome.PASSED, "ok\n")
    assert (failed.outcome, failed.returncode, failed.stderr_tail) == (Outcome.FAILED, 3, "boom\n")
    assert syntax.outcome is Outcome.FAILED and "SyntaxError" in syntax.stderr_tail
    assert looping.outcome is Outcome.TIMEOUT


def test_stderr_tail_keeps_the_end(engine):
    [result] = engine.run([Program("python", "import sys\nsys.stderr.write('x' * 100000 + 'END')")])
    assert result.stderr_tail.endswith("END")
    assert len(result.stderr_tail) == engine.config.stderr_tail_bytes


@pytest.mark.parametrize("language", sorted(ADD))
def test_multipl_e_languages(engine, benchmarks_dir, language):
    reason = missing_toolchain(LANGUAGES[language])
    if reason is not None:
        pytest.skip(reason)
    task = HumanEvalMultiPLE(language)
    [problem] = [p for p in task.problems(benchmarks_dir) if p.task_id == "HumanEval_53_add"]
    right, wrong, broken = (task.program(problem, c) for c in ADD[language])
    results = engine.run([right, wrong, broken])
    expected_broken = Outcome.COMPILE_ERROR if language in COMPILED else Outcome.FAILED
    assert [r.outcome for r in results] == [Outcome.PASSED, Outcome.FAILED, expected_broken], [
        r.stderr_tail for r in results
    ]


@pytest.mark.parametrize("language", sorted(EARLY_EXIT))
def test_exiting_0_before_the_tests_end_fails(engine, benchmarks_dir, language):
    reason = missing_toolchain(LANGUAGES[language])
    if reason is not None:
        pytest.skip(reason)
    task = HumanEvalMultiPLE(language)
    [problem] = [p for p in task.problems(benchmarks_dir) if p.task_id == "HumanEval_53_add"]
    results = engine.run([task.program(problem, c) for c in EARLY_EXIT[language]])
    seen = [(r.outcome, r.returncode, r.detail) for r in results]
    assert seen == [(Outcome.FAILED, 0, NO_END)] * len(results), [r.stderr_tail for r in results]


@pytest.mark.parametrize(
    "completion",
    [
        "    exit()",
        "    import sys; sys.exit(0)",
        "    import os; os._exit(0)",
        "    raise SystemExit",
        "    return a - b\nimport sys\nsys.exit(0)",
    ],
)
def test_python_exiting_0_before_the_tests_end_fails(engine, completion):
    source = f"def add(a, b):\n{completion}\n\nassert add(2, 3) == 5\n"
    [result] = engine.run([Program("python", source)])
    assert (result.outcome, result.returncode, result.detail) == (Outcome.FAILED, 0, NO_END)


def test_a_guessed_marker_does_not_pass_and_the_real_one_is_not_recorded(engine):
    fake = "print('" + PREFIX + "0' * 32)\nimport os\nos._exit(0)"
    early, honest = engine.run([Program("python", fake), Program("python", "print('ok')")])
    assert (early.outcome, early.detail) == (Outcome.FAILED, NO_END)
    assert (honest.outcome, honest.stdout_tail) == (Outcome.PASSED, "ok\n")


def test_a_program_that_does_not_end_with_main_is_rejected(engine):
    with pytest.raises(ValueError, match="must end with the closing brace"):
        engine.run([Program("java", "class Problem {}\nint x = 1;")])


def test_results_do_not_depend_on_worker_count():
    programs = [Program("python", f"assert {i} % 3 != 0, {i}") for i in range(30)]
    runs = []
    for workers in (1, 2, 3):
        with Engine(ExecConfig(limits=Limits(timeout_s=5), workers=workers)) as engine:
            results = engine.run(programs)
            runs.append([(r.outcome, r.returncode, r.stderr_tail) for r in results])
    assert runs[0] == runs[1] == runs[2]
    assert [o for o, _, _ in runs[0]] == [
        Outcome.FAILED if i % 3 == 0 else Outcome.PASSED for i in range(30)
    ]


def test_timeout_multiplier_scales_the_deadline():
    program = Program("python", "import time\ntime.sleep(1.5)")
    limits = Limits(timeout_s=1.0, cpu_s=1)
    with Engine(ExecConfig(limits=limits, workers=1)) as engine:
        [short] = engine.run([program])
    with Engine(
        ExecConfig(limits=Limits(timeout_s=1.0, cpu_s=1, timeout_multiplier=3.0), workers=1)
    ) as engine:
        [long] = engine.run([program])
    assert (short.outcome, long.outcome) == (Outcome.TIMEOUT, Outcome.PASSED)


def test_cpu_limit_ends_a_busy_program_before_the_wall_clock():
    limits = Limits(timeout_s=30.0, cpu_s=1)
    with Engine(ExecConfig(limits=limits, workers=1)) as engine:
        [result] = engine.run([Program("python", "while True:\n    pass")])
    assert result.outcome is Outcome.TIMEOUT
    assert result.seconds < 10


def working_python(mode: Isolation) -> str:
    """Our interpreter, or else the system's: as root, the fallback modes need one the
    unprivileged sandbox uid can read (pyenv's, under a 0700 home, is not)."""
    candidates = [sys.executable, shutil.which("python3", path=SANDBOX_ENV["PATH"])]
    problems = []
    for python in filter(None, candidates):
        problem = probe(mode, ExecConfig().sandbox_uid_base, python)
        if problem is None:
            return python
        problems.append(f"{python}: {problem}")
    pytest.skip(f"{mode.value} does not work here: {problems}")


@pytest.mark.parametrize("mode", [Isolation.UNSHARE, Isolation.RLIMITS])
def test_fallback_modes_contain_loops_memory_fork_bombs_and_leftovers(mode):
    python = working_python(mode)
    programs = [
        Program("python", "print('ok')"),
        Program("python", "while True:\n    pass"),
        Program("python", "x = bytearray(50 * 2**30)"),
        Program("python", "import os\nfor _ in range(100000):\n    os.fork()"),
        Program("python", "import subprocess\nsubprocess.Popen(['sleep', '300'])"),
        Program(
            "python",
            "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)",
        ),
        Program("cpp", "int main() { }"),
    ]
    limits = Limits(timeout_s=3, cpu_s=3)
    config = ExecConfig(
        isolation=mode, allow_weak_isolation=True, limits=limits, workers=1, python=python
    )
    with Engine(config) as engine:
        outcomes = [r.outcome for r in engine.run(programs)]
    assert outcomes[:2] == [Outcome.PASSED, Outcome.TIMEOUT]
    assert Outcome.PASSED not in outcomes[2:4]
    assert outcomes[4:] == [Outcome.SANDBOX_VIOLATION, Outcome.SANDBOX_VIOLATION, Outcome.PASSED]


def test_explicit_mode_that_does_not_work_is_an_error_not_a_downgrade(monkeypatch):
    monkeypatch.setattr("dsc_evals.sandbox.probe", lambda mode, uid_base, python: "no such tool")
    with pytest.raises(RuntimeError, match="isolation mode 'bwrap' does not work here"):
        Engine(ExecConfig(isolation=Isolation.BWRAP))


def test_unknown_language_is_rejected(engine):
    with pytest.raises(ValueError, match="unknown language 'cobol'"):
        engine.run([Program("cobol", "")])


def test_missing_toolchain_is_reported_with_the_package(monkeypatch):
    monkeypatch.setattr("dsc_evals.languages.SANDBOX_ENV", {"PATH": "/nonexistent"})
    reasons = detect_toolchains(["python", "cpp"])
    assert reasons["python"] is None
    assert "'g++' not found" in (reasons["cpp"] or "") and "apt-get install g++" in reasons["cpp"]


@pytest.mark.parametrize(
    "bad", [{"timeout_s": 0}, {"cpu_s": 0}, {"processes": -1}, {"timeout_multiplier": -2.0}]
)
def test_limits_validation(bad):
    with pytest.raises(ValueError, match="Limits"):
        Limits(**bad)


@pytest.mark.parametrize("language", sorted(ADD))
def test_an_empty_completion_never_passes(engine, benchmarks_dir, language):
    # Guards the harness itself: e.g. optimised C++ let an empty function body pass its asserts.
    # One case per language, skipped visibly when its toolchain is missing (never vacuous).
    reason = missing_toolchain(LANGUAGES[language])
    if reason is not None:
        pytest.skip(reason)
    task = HumanEvalMultiPLE(language)
    programs = [task.program(problem, "") for problem in task.problems(benchmarks_dir)[:3]]
    results = engine.run(programs)
    assert len(results) == 3 and [r for r in results if r.passed] == []
