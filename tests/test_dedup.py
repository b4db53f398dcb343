"""Near-dedup: MinHash accuracy, collisions, shard invariance, errors (dsc.dedup)."""

from __future__ import annotations

import hashlib
import logging
import math
import random
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc import _dsc
from dsc.atomic import write_parquet
from dsc.dedup import (
    DedupConfig,
    DedupInputError,
    dedup_frame,
    dedup_shards,
    minhash_signature,
    minhash_similarity,
)
from dsc.dedup.layout import Layout
from dsc.dedup.stages import compute_signatures, find_pairs, unit_signatures

# Few permutations and partitions keep the end-to-end examples fast; the algorithm is the same.
SMALL = DedupConfig(num_perm=64, num_partitions=3)

words = st.text(alphabet="abcdefghij", min_size=1, max_size=4)


def shingle_set(text: str, n: int = 5) -> set[str]:
    """The slow obvious reference of the Rust shingling: lower-case, split, join n words."""
    tokens = text.lower().split()
    if not tokens:
        return set()
    n = min(n, len(tokens))
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def estimate(left: str, right: str, cfg: DedupConfig) -> float:
    sig = pl.DataFrame({"text": [left, right]}).select(minhash_signature("text", cfg))["text"]
    frame = pl.DataFrame({"a": sig[:1], "b": sig[1:]})
    return frame.select(minhash_similarity("a", "b")).item()


def check_estimate(
    common: list[str], left_only: list[str], right_only: list[str], cfg: DedupConfig
):
    left, right = " ".join(common + left_only), " ".join(common + right_only)
    a, b = shingle_set(left, cfg.ngram), shingle_set(right, cfg.ngram)
    exact = len(a & b) / len(a | b) if a | b else 1.0
    std_err = math.sqrt(exact * (1 - exact) / cfg.num_perm)
    assert abs(estimate(left, right, cfg) - exact) <= 4 * std_err + 1e-9


@pytest.mark.parametrize("scheme", ["oph", "classic"])
@settings(derandomize=True)
@given(
    common=st.lists(words, max_size=120),
    left_only=st.lists(words, max_size=120),
    right_only=st.lists(words, max_size=120),
    seed=st.integers(0, 2**63 - 1),
)
def test_estimate_within_four_standard_errors(scheme, common, left_only, right_only, seed):
    check_estimate(common, left_only, right_only, DedupConfig(scheme=scheme, seed=seed))


@pytest.mark.parametrize("scheme", ["oph", "classic"])
@settings(derandomize=True)
@given(
    common=st.lists(words, max_size=6),
    left_only=st.lists(words, max_size=6),
    right_only=st.lists(words, max_size=6),
    seed=st.integers(0, 2**63 - 1),
)
def test_estimate_of_sets_smaller_than_the_signature(scheme, common, left_only, right_only, seed):
    # At most 18 shingles in 64 bins: most of a one-permutation signature is densified.
    cfg = DedupConfig(scheme=scheme, seed=seed, ngram=1, num_perm=64)
    check_estimate(common, left_only, right_only, cfg)


GOLDEN_TEXTS = [
    "",
    "x",
    "def f(x):\n    return x + 1",
    " ".join(f"w{i}" for i in range(1000)),
    "Ünïcödé ΣΑΣ text with more than five words here",
]


def signature_digest(cfg: DedupConfig) -> str:
    frame = pl.DataFrame({"text": GOLDEN_TEXTS}).select(minhash_signature("text", cfg))
    values = [v for signature in frame["text"].to_list() for v in signature]
    return hashlib.sha256(b"".join(v.to_bytes(8, "little") for v in values)).hexdigest()


def test_classic_signatures_are_those_from_before_one_permutation_hashing():
    # The digest of these signatures as computed by dsc before the "oph" scheme (commit 3b0fe90).
    digest = "ece918c8c0df55157b72e7fd42fc51de6df4b33734664fded27700a7b32d052d"
    assert signature_digest(DedupConfig(scheme="classic")) == digest


@pytest.mark.parametrize("simd", ["portable", "avx2", "avx512"])
def test_every_simd_build_gives_the_same_signatures(monkeypatch, simd):
    monkeypatch.setenv("DSC_SIMD", simd)
    try:
        kernels = _dsc.minhash_kernels()
    except ValueError as error:
        assert "not supported by this CPU" in str(error)
        pytest.skip(f"this CPU has no {simd}")
    assert kernels["oph"] == "oph/scalar" and kernels["classic"] == f"classic/{simd}"
    for scheme in ("oph", "classic"):
        cfg = DedupConfig(scheme=scheme)
        monkeypatch.setenv("DSC_SIMD", "portable")
        portable = signature_digest(cfg)
        monkeypatch.setenv("DSC_SIMD", simd)
        assert signature_digest(cfg) == portable


def test_an_unknown_simd_build_is_named(monkeypatch):
    monkeypatch.setenv("DSC_SIMD", "sse9")
    with pytest.raises(pl.exceptions.ComputeError, match='DSC_SIMD="sse9" is not a SIMD path'):
        signature_digest(DedupConfig())


@settings(max_examples=25)
@given(text=st.text(max_size=300), noise=st.sampled_from(["", "  ", "\n\t"]))
def test_identical_texts_always_collide(text, noise):
    # The second copy differs only in case and spacing, which normalisation removes.
    df = pl.DataFrame({"id": [1, 2], "text": [text, noise + text.upper() + noise]})
    if text.upper().lower() != text.lower():
        df = df.with_columns(text=pl.lit(text))  # case folding that does not round-trip
    result = dedup_frame(df, cfg=SMALL)
    assert result.frame["cluster_id"].n_unique() == 1
    assert result.frame["keep"].sum() == 1
    assert result.audit["similarity"].to_list() == [1.0]


def near_duplicate_corpus(seed: int, families: int = 12) -> pl.DataFrame:
    """Random documents, each with copies that differ in a few words (or in many)."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    ids, texts = [], []
    for family in range(families):
        base = [rng.choice(vocab) for _ in range(rng.randint(30, 200))]
        for copy in range(rng.randint(1, 4)):
            doc = list(base)
            for _ in range(rng.choice([0, 1, 2, 40])):
                doc[rng.randrange(len(doc))] = rng.choice(vocab)
            ids.append(f"doc-{family}-{copy}")
            texts.append(" ".join(doc))
    return pl.DataFrame({"id": ids, "text": texts})


def write_shards(df: pl.DataFrame, directory: Path, count: int, seed: int) -> None:
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
    numbered = shuffled.with_row_index().with_columns(pl.col("index") % count)
    for i, part in enumerate(numbered.partition_by("index", include_key=False)):
        write_parquet(part, directory / f"part-{i:03d}.parquet")


def read_sorted(directory: Path, key: str) -> pl.DataFrame:
    return pl.read_parquet(sorted(directory.glob("*.parquet"))).sort(key)


@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), shards=st.integers(1, 5))
def test_results_do_not_depend_on_shard_count_or_order(tmp_path_factory, seed, shards):
    df = near_duplicate_corpus(seed)
    reference = dedup_frame(df, cfg=SMALL)
    tmp = tmp_path_factory.mktemp("shards")
    write_shards(df, tmp / "in", shards, seed)
    dedup_shards(tmp / "in", tmp / "out", SMALL)
    assert read_sorted(tmp / "out" / "data", "id").equals(reference.frame.sort("id"))
    assert read_sorted(tmp / "out" / "audit", "removed_id").equals(
        reference.audit.sort("removed_id")
    )


def test_copies_are_removed_and_audited():
    df = near_duplicate_corpus(seed=7)
    result = dedup_frame(df, cfg=SMALL)
    frame = result.frame
    # Every family keeps exactly its longest member among exact copies.
    removed = frame.filter(~pl.col("keep"))
    assert removed.height == result.audit.height == result.stats["removed"] > 0
    kept_ids = set(frame.filter("keep")["id"])
    assert set(result.audit["kept_id"]) <= kept_ids
    assert result.audit["similarity"].min() >= SMALL.threshold - 0.25
    clusters = result.stats["clusters"]
    assert clusters["removed"] == removed.height
    assert clusters["largest"] >= 2


def test_rank_column_chooses_the_kept_row():
    text = " ".join(f"t{i}" for i in range(50))
    df = pl.DataFrame({"id": ["a", "b", "c"], "text": [text] * 3, "stars": [5, 50, 50]})
    result = dedup_frame(df, cfg=replace(SMALL, rank_col="stars"))
    # Highest stars wins; the tie between b and c goes to the smaller id.
    assert result.frame.filter("keep")["id"].to_list() == ["b"]
    assert result.frame["cluster_id"].to_list() == ["b", "b", "b"]


def test_drop_removed_writes_only_kept_rows(tmp_path):
    df = near_duplicate_corpus(seed=3)
    write_parquet(df, tmp_path / "in" / "a.parquet")
    stats = dedup_shards(tmp_path / "in", tmp_path / "out", replace(SMALL, drop_removed=True))
    out = pl.read_parquet(tmp_path / "out" / "data" / "a.parquet")
    assert out.height == df.height - stats["removed"]
    assert out["keep"].all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_perm": 0}, "num_perm"),
        ({"scheme": "bbit"}, "scheme must be one of"),
        ({"threshold": 0.0}, "threshold"),
        ({"bands": 4}, "both bands and rows"),
        ({"bands": 20, "rows": 20}, "bands x rows"),
        ({"num_partitions": 0}, "num_partitions"),
        ({"text_col": "id"}, "differ"),
    ],
)
def test_config_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DedupConfig(**kwargs)


def test_optimal_layout_puts_the_step_at_the_threshold():
    bands, rows = DedupConfig().layout()
    assert bands * rows <= 256

    def collide(s: float) -> float:
        return 1 - (1 - s**rows) ** bands

    assert collide(0.9) > 0.95 and collide(0.6) < 0.05


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"id": [1, 2], "text": ["a", None]}), "row 1: 'text' is null"),
        (pl.DataFrame({"id": [1, 1], "text": ["a", "b"]}), "id 1 occurs more than once"),
        (pl.DataFrame({"id": [1], "text": [b"a"]}), "must be String"),
        (pl.DataFrame({"id": [1], "body": ["a"]}), "no column 'text'"),
        (
            pl.DataFrame({"id": [1], "text": ["a"], "stars": ["many"]}),
            "rank column 'stars' must be numeric, got String",
        ),
    ],
)
def test_bad_input_is_named(tmp_path, frame, message):
    write_parquet(frame, tmp_path / "in" / "bad.parquet")
    cfg = replace(SMALL, rank_col="stars") if "stars" in frame.columns else SMALL
    with pytest.raises(DedupInputError, match=message) as info:
        dedup_shards(tmp_path / "in", tmp_path / "out", cfg)
    assert "bad.parquet" in str(info.value)


def test_output_directory_must_be_fresh(tmp_path):
    write_parquet(pl.DataFrame({"id": [1], "text": ["x"]}), tmp_path / "in" / "a.parquet")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("previous run")
    with pytest.raises(FileExistsError, match="not empty"):
        dedup_shards(tmp_path / "in", tmp_path / "out", SMALL)


@pytest.mark.parametrize("same_text", [True, False])
def test_an_id_repeated_across_shards_is_named(tmp_path, same_text):
    # Rows with different texts share no band record: the check must not depend on one.
    text = " ".join(f"t{i}" for i in range(50))
    other = text if same_text else " ".join(f"u{i}" for i in range(50))
    write_parquet(pl.DataFrame({"id": [1, 2], "text": [text, text]}), tmp_path / "in" / "a.parquet")
    write_parquet(pl.DataFrame({"id": [1], "text": [other]}), tmp_path / "in" / "b.parquet")
    with pytest.raises(DedupInputError, match=r"id 1 occurs in more than one row.*\['a', 'b'\]"):
        dedup_shards(tmp_path / "in", tmp_path / "out", replace(SMALL, num_partitions=64))


def test_a_damaged_signature_file_is_named(tmp_path):
    df = near_duplicate_corpus(seed=5)
    write_parquet(df, tmp_path / "in" / "a.parquet")
    cfg = SMALL
    layout = Layout(tmp_path / "out")
    compute_signatures(tmp_path / "in" / "a.parquet", cfg, layout)
    signatures = layout.signatures("a")
    signatures.write_bytes(signatures.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"a\.sig: not a signature file: .* bytes do not hold"):
        for partition in range(cfg.num_partitions):
            find_pairs(partition, cfg, layout)


def test_each_stage_is_logged(tmp_path, caplog):
    write_parquet(near_duplicate_corpus(seed=2), tmp_path / "in" / "a.parquet")
    with caplog.at_level(logging.INFO, logger="dsc.dedup.api"):
        dedup_shards(tmp_path / "in", tmp_path / "out", SMALL)
    stages = [record.args[0] for record in caplog.records if record.args]
    assert stages == ["signatures", "pairs", "clusters", "filter"]


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    df = near_duplicate_corpus(seed=4)
    write_shards(df, tmp_path / "in", 3, seed=4)
    out, layout = tmp_path / "out", Layout(tmp_path / "out")
    first = dedup_shards(tmp_path / "in", out, SMALL)
    results = outputs_of(out)
    signatures = {p: p.stat().st_mtime_ns for p in (layout.work / "signatures").iterdir()}
    # Killed in stage 4: one shard's outputs and report are missing, and the run's stats.
    shard = sorted(layout.out_dir.glob("data/*.parquet"))[0].stem
    for path in (layout.output(shard), layout.audit(shard), layout.done("filter", shard)):
        path.unlink()
    layout.stats.unlink()
    assert dedup_shards(tmp_path / "in", out, SMALL) == first
    assert outputs_of(out) == results
    # Finished tasks were not run again.
    assert {p: p.stat().st_mtime_ns for p in signatures} == signatures


def test_resuming_with_another_config_or_input_is_refused(tmp_path):
    write_parquet(near_duplicate_corpus(seed=1), tmp_path / "in" / "a.parquet")
    dedup_shards(tmp_path / "in", tmp_path / "out", SMALL)
    with pytest.raises(FileExistsError, match="other shards or another config"):
        dedup_shards(tmp_path / "in", tmp_path / "out", replace(SMALL, threshold=0.9))
    write_parquet(near_duplicate_corpus(seed=2), tmp_path / "in" / "b.parquet")
    with pytest.raises(FileExistsError, match="other shards or another config"):
        dedup_shards(tmp_path / "in", tmp_path / "out", SMALL)


def outputs_of(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/*.parquet"))}


@pytest.mark.parametrize("scheme", ["oph", "classic"])
@settings(derandomize=True, max_examples=50)
@given(
    groups=st.lists(
        st.lists(st.lists(words, min_size=1, max_size=30), min_size=1, max_size=4),
        min_size=1,
        max_size=5,
    )
)
def test_a_group_signature_is_the_minhash_of_the_union_of_its_rows(scheme, groups):
    # With one word per shingle, the union of the rows' shingles is the joined text's.
    cfg = replace(SMALL, ngram=1, group_col="group", scheme=scheme)
    rows = pl.DataFrame(
        [
            (f"{g}.{r}", g, " ".join(row))
            for g, group in enumerate(groups)
            for r, row in enumerate(group)
        ],
        schema=["id", "group", "text"],
        orient="row",
    )
    units = unit_signatures(rows, cfg)
    joined = [" ".join(" ".join(row) for row in group) for group in groups]
    expected = pl.DataFrame({"text": joined}).select(minhash_signature("text", cfg))["text"]
    assert units["id"].to_list() == list(range(len(groups)))
    assert units["signature"].to_list() == expected.to_list()
    assert units["rank"].to_list() == [float(sum(len(" ".join(r)) for r in g)) for g in groups]


def test_groups_are_kept_or_removed_whole_and_the_audit_names_them():
    shared = [" ".join(f"word{i}x{j}" for j in range(300)) for i in range(20)]
    own = " ".join(f"own{j}" for j in range(40))
    # b is a with its last row rewritten: that row differs, the whole group is a copy.
    texts = {"a": shared, "b": [*shared[:-1], own], "c": ["something else entirely"]}
    rows = [(f"{g}{i:02d}", g, t) for g, group in texts.items() for i, t in enumerate(group)]
    df = pl.DataFrame(rows, schema=["id", "group", "text"], orient="row")
    result = dedup_frame(df, cfg=replace(SMALL, group_col="group"))
    kept = result.frame.filter("keep")
    assert sorted(set(kept["group"])) == ["a", "c"] and kept.height == 21
    assert result.audit.select("removed_id", "kept_id").rows() == [("b", "a")]
    assert result.stats["removed"] == 20 and result.stats["removed_units"] == 1
    by_row = dedup_frame(df, cfg=SMALL).frame.filter("keep")  # b keeps its rewritten row
    assert by_row.filter(pl.col("group") == "b")["id"].to_list() == ["b19"]
