"""Progress of build_corpus: a bar on a terminal, log lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dsc import build_corpus
from dsc.progress import Progress, progress_mode


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_mode_follows_the_stream_and_quiet() -> None:
    assert progress_mode(False, Terminal()) == "bar"
    assert progress_mode(False, io.StringIO()) == "lines"
    assert progress_mode(True, Terminal()) == "quiet"


def test_lines_count_tasks_and_bytes_in_any_finishing_order() -> None:
    out = io.StringIO()
    progress = Progress("phase", [3_000_000, 1_000_000, 2_000_000], "lines", out)
    for index in (2, 0, 1):
        progress(index)
    progress.close()
    assert out.getvalue().startswith("phase: 3/3 tasks, 6.0/6.0 MB, ")
    assert out.getvalue().endswith(" 0 s left\n")


def test_the_bar_reaches_the_total_bytes() -> None:
    out = Terminal()
    progress = Progress("phase", [1000, 24], "bar", out)
    progress(0)
    progress(1)
    assert progress.bar is not None and progress.bar.n == 1024
    progress.close()
    assert "2/2 tasks" in out.getvalue()


def test_build_corpus_reports_its_phases_unless_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch, benchmarks_dir: Path
) -> None:
    monkeypatch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
    repos = tmp_path / "repos" / "r"
    repos.mkdir(parents=True)
    (repos / "a.py").write_text("def f(x):\n    return x * 2\n")
    args = ["--input", str(repos.parent), "--out", str(tmp_path / "out")]
    assert build_corpus.main(args) == 0
    seen = capsys.readouterr()
    assert "phase 1 (filter, redact, screen, decontaminate, order): 1/1 tasks" in seen.err
    assert "phase 2 (near-dedup) done" in seen.out
    assert build_corpus.main([*args[:-1], str(tmp_path / "again"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
