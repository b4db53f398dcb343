"""Near-dedup of real repositories (``../shared/repos``): the older copy of each near-duplicate
pair goes whole, its newer version stays whole, and no two distinct projects are clustered.

The trees are committed to git repositories first, as a user's clones would be, with the
commit dates in the order ``SOURCES.md`` gives (``name@old`` is 40 commits before ``name``):
``dedup_keep = "newest"`` ranks a repository by its commit date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from dsc import build_corpus

NEWER, OLDER = "2026-06-01T12:00:00+00:00", "2026-01-01T12:00:00+00:00"


def commit_tree(tree: Path, clone: Path, date: str) -> None:
    shutil.copytree(tree, clone, symlinks=True)
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    ident = ["-c", "user.name=dsc", "-c", "user.email=dsc@localhost"]
    for args in (["init", "-q"], ["add", "-A", "-f"], [*ident, "commit", "-q", "-m", "import"]):
        subprocess.run(["git", "-C", str(clone), *args], check=True, env=env)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, repos_dir: Path, benchmarks_dir: Path):
    root = tmp_path_factory.mktemp("dedup_repos")
    for tree in sorted(p for p in repos_dir.iterdir() if p.is_dir()):
        commit_tree(tree, root / "repos" / tree.name, OLDER if "@old" in tree.name else NEWER)
    out = root / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
        args = ["--input", str(root / "repos"), "--out", str(out), "--quiet"]
        assert build_corpus.main(args) == 0
    return out


def test_the_older_copy_goes_whole_and_nothing_else_is_clustered(corpus: Path) -> None:
    audit = pl.read_parquet(corpus / "dedup" / "audit" / "*.parquet")
    pairs = sorted(set(audit.select("removed_id", "kept_id").rows()))
    assert pairs == [("commons-cli@old", "commons-cli"), ("httpx@old", "httpx")]


def test_the_newer_version_keeps_every_sample(corpus: Path) -> None:
    before = pl.read_parquet(corpus / "samples" / "*.parquet")
    after = pl.read_parquet(corpus / "dedup" / "data" / "*.parquet")
    for repo in ("httpx", "commons-cli"):
        kept = set(after.filter(pl.col("repo") == repo)["id"])
        assert kept == set(before.filter(pl.col("repo") == repo)["id"]) != set()
    assert after.filter(pl.col("repo").str.ends_with("@old")).is_empty()
    removed = before.filter(pl.col("repo").str.ends_with("@old"))
    assert after.height == before.height - removed.height
