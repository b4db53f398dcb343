"""Git repositories as build_corpus input: the ref's tree, not the work tree, keyed by blob."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest

from dsc import build_corpus
from dsc.git_source import GitRepository

GIT = [
    "git",
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@example.org",
    "-c",
    "init.defaultBranch=main",
]
LIB = "def area(width, height):\n    return width * height\n"
APP = "from lib import area\n\n\ndef main():\n    print(area(3, 4))\n"


@pytest.fixture(autouse=True)
def _benchmarks(monkeypatch: pytest.MonkeyPatch, benchmarks_dir: Path) -> None:
    monkeypatch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True)
    return done.stdout.decode().strip()


def make_git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    (path / "lib.py").write_text(LIB)
    (path / "pkg").mkdir()
    (path / "pkg" / "app.py").write_text(APP)
    (path / "node_modules").mkdir()
    (path / "node_modules" / "dep.js").write_text("module.exports = 1;\n")
    (path / "link.py").symlink_to("lib.py")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "first")
    return path


def kept(out: Path) -> dict[tuple[str, str], str]:
    files = pl.read_parquet(out / "files" / "*.parquet")
    return {(r, p): t for r, p, t in files.select("repo", "path", "content").iter_rows()}


def run(inputs: Path, out: Path, *extra: str) -> None:
    assert build_corpus.main(["--input", str(inputs), "--out", str(out), *extra]) == 0


def test_work_tree_and_bare_clone_read_the_committed_tree(tmp_path: Path) -> None:
    work = make_git_repo(tmp_path / "in" / "work")
    git(tmp_path / "in", "clone", "-q", "--bare", str(work), "bare.git")
    (work / "lib.py").write_text("uncommitted = True\n")  # not in HEAD's tree: never read
    run(tmp_path / "in", tmp_path / "out")
    files = kept(tmp_path / "out")
    for repo in ("work", "bare.git"):
        assert files[(repo, "lib.py")] == LIB
        assert files[(repo, "pkg/app.py")] == APP
    assert {path for _, path in files} == {"lib.py", "pkg/app.py"}  # no symlink, no node_modules
    inputs = pl.read_parquet(tmp_path / "out" / "inputs.parquet")
    head = git(work, "rev-parse", "HEAD")
    assert inputs.select("repo", "kind", "commit").rows() == [
        ("bare.git", "git", head),
        ("work", "git", head),
    ]
    # Every kept file and sample says which commit it was read at.
    for table in ("files", "samples", "dedup/data"):
        assert set(pl.read_parquet(tmp_path / "out" / table)["repo_commit"]) == {head}


def test_a_shard_is_redone_when_the_commit_changes_its_content_not_its_mtime(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    work = make_git_repo(tmp_path / "work")
    run(work, tmp_path / "out")
    (work / "lib.py").touch()  # the work tree changes, the tree of HEAD does not
    run(work, tmp_path / "out")
    assert "1 shards planned, 1 already done" in capsys.readouterr().out
    (work / "lib.py").write_text(LIB + "\n\ndef volume(w, h, d):\n    return w * h * d\n")
    git(work, "commit", "-q", "-am", "second")
    run(work, tmp_path / "out")
    assert "1 shards planned, 0 already done" in capsys.readouterr().out
    assert "def volume" in kept(tmp_path / "out")[("work", "lib.py")]


def test_an_older_ref_and_an_empty_repository(tmp_path: Path) -> None:
    work = make_git_repo(tmp_path / "in" / "work")
    git(work, "tag", "v1")
    (work / "lib.py").write_text(LIB + "# second\n")
    git(work, "commit", "-q", "-am", "second")
    (tmp_path / "in" / "empty").mkdir()
    git(tmp_path / "in" / "empty", "init", "-q")
    run(tmp_path / "in", tmp_path / "out", "--git-ref", "v1")
    assert kept(tmp_path / "out")[("work", "lib.py")] == LIB
    dropped = pl.read_parquet(tmp_path / "out" / "dropped" / "*.parquet")
    empty = dropped.filter(pl.col("repo") == "empty").select("path", "reason").rows()
    assert empty == [(".", "unreadable_ref")]


def test_names_that_are_not_utf8_are_audited(tmp_path: Path) -> None:
    work = make_git_repo(tmp_path / "work")
    (work / b"caf\xe9.py".decode(errors="surrogateescape")).write_text("x = 1\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "latin-1 name")
    listing = GitRepository("work", work).listing()
    assert listing.problems == (("caf\\xe9.py", "unreadable_name"),)
    assert [f.relative for f in listing.files] == ["lib.py", "pkg/app.py"]
