"""Near-dedup quality on real code: repositories of site-packages, pip's vendored copies of
some of them, and copies mutated by deleting or editing files, judged by exact Jaccard."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import polars as pl
import pytest
import xxhash

from dsc.dedup import DedupConfig, dedup_frame
from dsc.sources import Repository, site_packages_repositories

CFG = DedupConfig()
MARGIN = 0.05  # recall is judged above threshold + margin, where LSH is meant to be sure
BASE_REPOS = 16
IDENTIFIER = re.compile(r"\b[a-z_][a-z0-9_]{5,}\b")


def python_files(repo: Repository) -> dict[str, str]:
    files = {}
    for path in repo.files(max_file_bytes=1 << 20):
        if path.suffix == ".py":
            files[path.relative_to(repo.root).as_posix()] = path.read_text(errors="replace")
    return files


def as_sample(files: dict[str, str]) -> str:
    """One repository-level sample: the files in path order, each after a path comment."""
    return "\n".join(f"# {path}\n{files[path]}" for path in sorted(files))


def mutations(files: dict[str, str], rng: random.Random) -> dict[str, dict[str, str]]:
    """Copies of a repository: one file deleted, identifiers renamed, a third of files deleted."""
    paths = sorted(files)
    smallest = min(paths, key=lambda p: len(files[p]))
    edited = dict(files)
    for path in rng.sample(paths, max(1, len(paths) // 4)):
        names = sorted(set(IDENTIFIER.findall(edited[path])))
        for name in rng.sample(names, min(2, len(names))):
            edited[path] = re.sub(rf"\b{name}\b", name + "_v2", edited[path])
    kept = set(rng.sample(paths, len(paths) - len(paths) // 3))
    return {
        "drop-one": {p: t for p, t in files.items() if p != smallest},
        "renamed": edited,
        "drop-third": {p: t for p, t in files.items() if p in kept},
    }


def corpus() -> pl.DataFrame:
    repos = {r.name: r for r in site_packages_repositories()}
    samples: dict[str, str] = {}
    vendored = [n for n in sorted(repos) if n.startswith("site-packages/pip")]
    for name in vendored:
        vendor_root = repos[name].root / "_vendor"
        for twin in sorted(vendor_root.iterdir()) if vendor_root.is_dir() else []:
            original = repos.get(f"site-packages/{twin.name}")
            if twin.is_dir() and original is not None:
                samples[f"pip-vendored/{twin.name}"] = as_sample(python_files(Repository("", twin)))
                samples[original.name] = as_sample(python_files(original))
    rng = random.Random(0)
    bases = 0
    for name in sorted(repos):
        files = python_files(repos[name])
        size = sum(map(len, files.values()))
        if name in samples or len(files) < 4 or not 20_000 <= size <= 300_000:
            continue
        samples[name] = as_sample(files)
        for variant, copy in mutations(files, rng).items():
            samples[f"{name}#{variant}"] = as_sample(copy)
        bases += 1
        if bases == BASE_REPOS:
            break
    return pl.DataFrame({"id": list(samples), "text": list(samples.values())})


def shingle_hashes(text: str, n: int = 5) -> np.ndarray:
    """The reference shingle set, computed independently of the Rust code."""
    tokens = text.lower().split()
    n = min(n, len(tokens))
    grams = (" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return np.unique(np.fromiter((xxhash.xxh3_64_intdigest(g.encode()) for g in grams), np.uint64))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


@pytest.mark.slow
def test_recall_and_precision_on_real_code(capsys):
    df = corpus()
    assert df.height >= 4 * BASE_REPOS
    result = dedup_frame(df, cfg=CFG)
    shingles = dict(zip(df["id"], map(shingle_hashes, df["text"]), strict=True))
    cluster = dict(zip(result.frame["id"], result.frame["cluster_id"], strict=True))

    # Recall: every pair whose exact Jaccard clears threshold + margin must share a cluster.
    # Jaccard is at most the ratio of set sizes, which prunes most pairs unseen.
    high = [
        (a, b)
        for a, b in itertools.combinations(shingles, 2)
        if min(len(shingles[a]), len(shingles[b])) / max(len(shingles[a]), len(shingles[b]), 1)
        >= CFG.threshold + MARGIN
        and jaccard(shingles[a], shingles[b]) >= CFG.threshold + MARGIN
    ]
    found = sum(cluster[a] == cluster[b] for a, b in high)
    # Precision: every removal must be a true duplicate of the row kept in its place.
    audit = result.audit.to_dicts()
    exact = [jaccard(shingles[r["removed_id"]], shingles[r["kept_id"]]) for r in audit]
    correct = sum(j >= CFG.threshold for j in exact)
    with capsys.disabled():
        print(
            f"\n[dedup quality] {df.height} repositories, "
            f"{df['text'].str.len_bytes().sum() / 1e6:.1f} MB; recall {found}/{len(high)} "
            f"pairs >= {CFG.threshold + MARGIN}; precision {correct}/{len(audit)} removals "
            f">= {CFG.threshold}; clusters {result.stats['clusters']}"
        )
    assert len(high) >= BASE_REPOS and len(audit) >= BASE_REPOS
    assert found / len(high) >= 0.95
    assert correct / len(audit) >= 0.95
