"""Near-dedup quality on real code, judged by exact Jaccard, for both signature schemes:
repositories of site-packages, pip's vendored copies of some of them, and copies mutated by
deleting or editing files; and the files of real repositories beside their versions 40 commits
earlier (``../shared/repos``), whose same-path pairs also measure the estimator's variance."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xxhash

from dsc.dedup import DedupConfig, dedup_frame, minhash_signature, minhash_similarity
from dsc.sources import Repository, site_packages_repositories

SCHEMES = ["oph", "classic"]
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


def recall_and_precision(
    result, shingles: dict[str, np.ndarray], high: list[tuple[str, str]]
) -> tuple[int, int, int]:
    """``(found, correct, removals)``: the ``high`` pairs that share a cluster, and the
    removals whose exact Jaccard with the row kept in their place clears the threshold."""
    cluster = dict(zip(result.frame["id"], result.frame["cluster_id"], strict=True))
    found = sum(cluster[a] == cluster[b] for a, b in high)
    audit = result.audit.to_dicts()
    exact = [jaccard(shingles[r["removed_id"]], shingles[r["kept_id"]]) for r in audit]
    return found, sum(j >= CFG.threshold for j in exact), len(audit)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_recall_and_precision_on_real_code(capsys, scheme):
    df = corpus()
    assert df.height >= 4 * BASE_REPOS
    result = dedup_frame(df, cfg=replace(CFG, scheme=scheme))
    shingles = dict(zip(df["id"], map(shingle_hashes, df["text"]), strict=True))

    # Recall: every pair whose exact Jaccard clears threshold + margin must share a cluster.
    # Jaccard is at most the ratio of set sizes, which prunes most pairs unseen.
    high = [
        (a, b)
        for a, b in itertools.combinations(shingles, 2)
        if min(len(shingles[a]), len(shingles[b])) / max(len(shingles[a]), len(shingles[b]), 1)
        >= CFG.threshold + MARGIN
        and jaccard(shingles[a], shingles[b]) >= CFG.threshold + MARGIN
    ]
    # Precision: every removal must be a true duplicate of the row kept in its place.
    found, correct, removals = recall_and_precision(result, shingles, high)
    with capsys.disabled():
        print(
            f"\n[dedup quality, {scheme}] {df.height} repositories, "
            f"{df['text'].str.len_bytes().sum() / 1e6:.1f} MB; recall {found}/{len(high)} "
            f"pairs >= {CFG.threshold + MARGIN}; precision {correct}/{removals} removals "
            f">= {CFG.threshold}; clusters {result.stats['clusters']}"
        )
    assert len(high) >= BASE_REPOS and removals >= BASE_REPOS
    assert found / len(high) >= 0.95
    assert correct / removals >= 0.95


# Repositories of ../shared/repos that have a version 40 commits older beside them.
VERSIONED = ("httpx", "commons-cli")


def versioned_files(repos_dir: Path) -> pl.DataFrame:
    """Every UTF-8 file of the versioned repositories, new and old, ids ``name[@old]/path``."""
    ids, texts = [], []
    for name in (f"{base}{suffix}" for base in VERSIONED for suffix in ("", "@old")):
        repo = Repository(name, repos_dir / name)
        for path in repo.files(max_file_bytes=1 << 20):
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
            ids.append(f"{name}/{path.relative_to(repo.root).as_posix()}")
            texts.append(text)
    return pl.DataFrame({"id": ids, "text": texts})


def same_path_pairs(ids: list[str]) -> list[tuple[str, str]]:
    """``(new, old)`` ids of the files present in both versions."""
    present = set(ids)
    return [
        (new, f"{base}@old/{new.split('/', 1)[1]}")
        for base in VERSIONED
        for new in ids
        if new.startswith(f"{base}/") and f"{base}@old/{new.split('/', 1)[1]}" in present
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_recall_and_precision_on_versions_of_real_repositories(capsys, repos_dir, scheme):
    df = versioned_files(repos_dir)
    result = dedup_frame(df, cfg=replace(CFG, scheme=scheme))
    shingles = dict(zip(df["id"], map(shingle_hashes, df["text"]), strict=True))
    pairs = same_path_pairs(df["id"].to_list())
    high = [p for p in pairs if jaccard(*(shingles[i] for i in p)) >= CFG.threshold + MARGIN]
    found, correct, removals = recall_and_precision(result, shingles, high)
    with capsys.disabled():
        print(
            f"\n[dedup versions, {scheme}] {df.height} files; recall {found}/{len(high)} "
            f"same-path pairs >= {CFG.threshold + MARGIN}; precision {correct}/{removals} "
            f"removals >= {CFG.threshold}"
        )
    assert len(high) >= 100 and removals >= 100
    assert found / len(high) >= 0.99
    # The wrong removals are pairs within 0.01 of the threshold (over seeds, 4 to 7 of about
    # 237 in either scheme), or reached through such a pair.
    assert correct / removals >= 0.95


def test_estimator_variance_on_real_pairs_against_classic(capsys, repos_dir):
    """The squared error of the estimate over its binomial variance ``J (1 - J) / k``, averaged
    over the edited same-path pairs and 16 seeds: about 1 for independent permutations."""
    df = versioned_files(repos_dir)
    text = dict(zip(df["id"], df["text"], strict=True))
    edited = []
    for new, old in same_path_pairs(df["id"].to_list()):
        exact = jaccard(shingle_hashes(text[new]), shingle_hashes(text[old]))
        if 0.0 < exact < 1.0:
            edited.append((new, old, exact))
    frame = pl.DataFrame(
        {"a": [text[n] for n, _, _ in edited], "b": [text[o] for _, o, _ in edited]}
    )
    exact = np.array([j for _, _, j in edited])
    ratios = {}
    for scheme in SCHEMES:
        errors = []
        for seed in range(16):
            cfg = replace(CFG, scheme=scheme, seed=seed)
            signed = frame.select(minhash_signature("a", cfg), minhash_signature("b", cfg))
            estimate = signed.select(minhash_similarity("a", "b")).to_series().to_numpy()
            errors.append((estimate - exact) ** 2 / (exact * (1 - exact) / cfg.num_perm))
        ratios[scheme] = float(np.mean(errors))
    with capsys.disabled():
        print(
            f"\n[estimator variance] {len(edited)} edited real pairs x 16 seeds, mean squared "
            f"error / binomial variance: oph {ratios['oph']:.3f}, classic "
            f"{ratios['classic']:.3f} (oph / classic {ratios['oph'] / ratios['classic']:.3f})"
        )
    assert len(edited) >= 20
    assert all(ratio <= 1.3 for ratio in ratios.values())
