"""Test configuration shared by every suite (tests/, evals/tests/): hypothesis profiles, the
published benchmark data, and a small tokenised corpus of real code."""

from __future__ import annotations

import os
import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs on 2 cores: a moderate example count keeps property tests meaningful and quick.
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

REPO_ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """Published benchmark data: ``DSC_BENCHMARKS_DIR``, default ``../shared/benchmarks``."""
    path = Path(os.environ.get("DSC_BENCHMARKS_DIR", REPO_ROOT.parent / "shared" / "benchmarks"))
    if not path.is_dir():
        pytest.fail(f"benchmark data not found at {path}: set DSC_BENCHMARKS_DIR")
    return path


@pytest.fixture(scope="session")
def repos_dir() -> Path:
    """Real repositories, one per subdirectory: ``DSC_REPOS_DIR``, default ``../shared/repos``.
    Tests that need them skip, naming the path, where they are absent."""
    path = Path(os.environ.get("DSC_REPOS_DIR", REPO_ROOT.parent / "shared" / "repos"))
    if not path.is_dir():
        pytest.skip(f"real repositories not found at {path}: set DSC_REPOS_DIR")
    return path


@dataclass(frozen=True)
class TokenCorpus:
    """A small corpus of real code, its tokenizer and its token shards (made once a session)."""

    corpus_dir: Path  # build_corpus output
    tokenizer_dir: Path  # train_tokenizer output
    tokens_dir: Path  # tokenize_corpus output


# Standard-library packages copied as repositories: ~1.5 MB of real Python (and some C/text).
TOKEN_CORPUS_PACKAGES = (
    "json",
    "email",
    "http",
    "urllib",
    "wsgiref",
    "xmlrpc",
    "logging",
    "importlib",
    "concurrent",
    "sqlite3",
    "unittest",
    "asyncio",
)


@pytest.fixture(scope="session")
def token_corpus(tmp_path_factory: pytest.TempPathFactory, benchmarks_dir: Path) -> TokenCorpus:
    """build_corpus -> train_tokenizer (2,000 BPE tokens) -> tokenize_corpus, as a user runs
    them, on a few packages of this machine's standard library."""
    from dsc import build_corpus, tokenize_corpus, train_tokenizer

    root = tmp_path_factory.mktemp("token_corpus")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in TOKEN_CORPUS_PACKAGES:
        shutil.copytree(
            stdlib / name, root / "repos" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = TokenCorpus(root / "corpus", root / "tokenizer", root / "tokens")
    config = root / "corpus.toml"
    config.write_text(f'[decontaminate]\nbenchmarks_dir = "{benchmarks_dir}"\n')
    corpus_args = ["--input", str(root / "repos"), "--config", str(config)]
    assert build_corpus.main([*corpus_args, "--out", str(out.corpus_dir)]) == 0
    tok_args = ["--corpus", str(out.corpus_dir), "--out", str(out.tokenizer_dir)]
    assert train_tokenizer.main([*tok_args, "--vocab-size", "2000"]) == 0
    shard_args = ["--corpus", str(out.corpus_dir), "--tokenizer", str(out.tokenizer_dir)]
    assert (
        tokenize_corpus.main([*shard_args, "--out", str(out.tokens_dir), "--valid-fraction", "0.1"])
        == 0
    )
    return out
