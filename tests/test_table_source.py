"""Parquet/JSONL inputs in a Stack-like schema: the same corpus as the same trees as
directories, column mappings, stars ranking dedup, and every bad row audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc import build_corpus
from dsc.filters import decode_text
from dsc.sources import Repository, read_repositories
from dsc.table_source import TableColumns, TableRepository, table_repositories

# A small project and a near-duplicate pair (the same project 40 commits apart).
REAL = ("psr7", "commons-cli", "commons-cli@old")
STACK = TableColumns()
AREA = "def area(width, height):\n    return width * height\n"
ONLY_TABLES = ("repo_stars", "repo_license", "repo_updated")


@pytest.fixture(scope="module")
def real_files(repos_dir: Path) -> pl.DataFrame:
    """The text files of the real trees as Stack v1 rows (files that are not UTF-8 cannot
    be a string column, so both inputs leave them out)."""
    raw = read_repositories(Repository(name, repos_dir / name) for name in REAL)
    text = raw.with_columns(content=decode_text("raw")).drop("raw")
    return text.filter(pl.col("content").is_not_null()).select(
        max_stars_repo_name="repo",
        max_stars_repo_path="path",
        content="content",
        max_stars_count=pl.col("repo").str.len_chars().cast(pl.Int64),
        max_stars_repo_licenses=pl.concat_list(pl.lit("MIT")),
        lang=pl.lit("unused"),
    )


@pytest.fixture(scope="module")
def built(
    real_files: pl.DataFrame, benchmarks_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """The corpus of the trees as directories, as one Parquet file, as two JSONL files that
    split every repository between them: their OUT folders."""
    root = tmp_path_factory.mktemp("tables")
    for row in real_files.iter_rows(named=True):
        path = root / "trees" / row["max_stars_repo_name"] / row["max_stars_repo_path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(row["content"])
    real_files.write_parquet(root / "stack.parquet")
    (root / "jsonl").mkdir()
    for part in (0, 1):
        rows = real_files.gather_every(2, offset=part).iter_rows(named=True)
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        (root / "jsonl" / f"part-{part}.jsonl").write_text(lines)
    config = root / "largest.toml"  # a directory's file times are not comparable to 0
    config.write_text('dedup_keep = "largest"\n')
    inputs = {"dirs": root / "trees", "parquet": root / "stack.parquet", "jsonl": root / "jsonl"}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
        for name, where in inputs.items():
            run(where, root / "out" / name, "--config", str(config))
    yield {name: root / "out" / name for name in inputs}


@pytest.fixture(autouse=True)
def local_benchmarks(benchmarks_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))


def run(input: Path | str, out: Path, *extra: str) -> None:
    args = ["--input", str(input), "--out", str(out), "--quiet", *extra]
    assert build_corpus.main(args) == 0


def corpus(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "dedup" / "data").sort("id")


def outputs(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*.parquet"))
        if p.name != "inputs.parquet"
    }


def test_a_stack_parquet_gives_the_corpus_of_the_same_trees(built: dict[str, Path]) -> None:
    tables, dirs = corpus(built["parquet"]), corpus(built["dirs"])
    assert tables.height >= 2 and tables["repo"].n_unique() == 2  # commons-cli@old went
    assert tables.drop(ONLY_TABLES).equals(dirs.drop(ONLY_TABLES))
    assert dirs["repo_stars"].is_null().all() and dirs["repo_license"].is_null().all()
    assert set(tables["repo_license"]) == {"MIT"}
    assert (tables["repo_stars"] == tables["repo"].str.len_chars()).all()
    files = pl.read_parquet(built["parquet"] / "files").sort("repo", "path")
    about = ["repo_stars", "repo_license", "repo_commit", "n_bytes", "n_tokens_est"]
    assert files.columns[-5:] == about
    dir_files = pl.read_parquet(built["dirs"] / "files").sort("repo", "path")
    assert files.drop(ONLY_TABLES, strict=False).equals(dir_files.drop(ONLY_TABLES, strict=False))


def test_jsonl_split_over_files_gives_the_parquet_corpus(built: dict[str, Path]) -> None:
    assert corpus(built["jsonl"]).equals(corpus(built["parquet"]))
    assert outputs(built["jsonl"]) == outputs(built["parquet"])


def test_other_schemas_load_through_a_column_mapping(
    real_files: pl.DataFrame, built: dict[str, Path], tmp_path: Path
) -> None:
    names = {"max_stars_repo_name": "repository", "max_stars_repo_path": "file", "content": "text"}
    names |= {"max_stars_count": "stargazers", "max_stars_repo_licenses": "licenses"}
    real_files.rename(names).write_parquet(tmp_path / "other.parquet")
    config = tmp_path / "mapping.toml"
    config.write_text(
        'dedup_keep = "largest"\n[input]\nrepo = "repository"\npath = "file"\ncontent = "text"\n'
        'stars = "stargazers"\nlicense = "licenses"\n'
    )
    run(tmp_path / "other.parquet", tmp_path / "out", "--config", str(config))
    assert corpus(tmp_path / "out").equals(corpus(built["parquet"]))


def test_dedup_keeps_the_most_starred_copy(real_files: pl.DataFrame, tmp_path: Path) -> None:
    pair = real_files.filter(pl.col("max_stars_repo_name").str.starts_with("commons-cli"))
    config = tmp_path / "stars.toml"
    config.write_text('dedup_keep = "stars"\n')
    for winner in ("commons-cli", "commons-cli@old"):
        stars = pl.when(pl.col("max_stars_repo_name") == winner).then(10).otherwise(1)
        pair.with_columns(max_stars_count=stars).write_parquet(tmp_path / f"{winner}.parquet")
        run(tmp_path / f"{winner}.parquet", tmp_path / winner, "--config", str(config))
        assert set(corpus(tmp_path / winner)["repo"]) == {winner}


def test_ranking_by_stars_needs_an_input_that_has_them(tmp_path: Path) -> None:
    (tmp_path / "repos" / "a").mkdir(parents=True)
    (tmp_path / "repos" / "a" / "x.py").write_text("x = 1\n")
    config = tmp_path / "stars.toml"
    config.write_text('dedup_keep = "stars"\n')
    with pytest.raises(SystemExit, match="dedup_keep = 'stars' needs table input"):
        run(tmp_path / "repos", tmp_path / "out", "--config", str(config))


def test_bad_rows_and_files_are_audited_and_the_rest_is_read(tmp_path: Path) -> None:
    good = {"max_stars_repo_name": "r", "max_stars_repo_path": "a.py", "content": AREA}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "max_stars_repo_path": "b.py", "content": None}),
        json.dumps({k: v for k, v in good.items() if k != "content"}),
        json.dumps({**good, "max_stars_repo_path": "c.py", "content": 7}),
        json.dumps({**good, "max_stars_repo_path": None}),
        json.dumps({**good, "max_stars_count": "many"}),
        json.dumps({**good, "content": "y = 2\n"}),  # the same file again: the first wins
    ]
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_text("\n".join(lines) + "\n")
    table = pl.DataFrame([{**good, "max_stars_repo_path": f"m{i}.py"} for i in range(50)])
    table.write_parquet(data / "b.parquet")
    whole = (data / "b.parquet").read_bytes()
    (data / "c.parquet").write_bytes(whole[: len(whole) // 2])  # truncated
    table.drop("content").write_parquet(data / "d.parquet")
    table.with_columns(content=pl.lit(1)).write_parquet(data / "e.parquet")
    nameless = table.head(1).with_columns(max_stars_repo_name=pl.lit(None, pl.String))
    nameless.write_parquet(data / "f.parquet")

    run(data, tmp_path / "out")
    dropped = pl.read_parquet(tmp_path / "out" / "dropped").filter(stage="read")
    audited = {(r, p, why) for r, p, why in dropped.select("repo", "path", "reason").iter_rows()}
    assert audited == {
        (str(data / "a.jsonl"), "row 1", "not_json"),
        (str(data / "a.jsonl"), "row 2", "null:content"),
        (str(data / "a.jsonl"), "row 3", "missing:content"),
        (str(data / "a.jsonl"), "row 4", "not_string:content"),
        (str(data / "a.jsonl"), "row 5", "null:max_stars_repo_path"),
        (str(data / "a.jsonl"), "row 6", "not_integer:max_stars_count"),
        (str(data / "a.jsonl"), "row 7", "duplicate_row"),
        (str(data / "c.parquet"), "file", "unreadable_table"),
        (str(data / "d.parquet"), "file", "missing:content"),
        (str(data / "e.parquet"), "file", "not_string:content"),
        (str(data / "f.parquet"), "row 0", "null:max_stars_repo_name"),
    }
    kept = pl.read_parquet(tmp_path / "out" / "files").sort("path")
    assert kept["path"].to_list() == ["a.py", *sorted(f"m{i}.py" for i in range(50))]
    assert kept["content"][0] == AREA
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["dropped_by_reason"]["duplicate_row"] == 1


def test_tables_and_output_at_storage_urls_give_the_same_corpus(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # file:// URLs go through fsspec and Polars' cloud reader as s3:// ones do.
    monkeypatch.setenv("DSC_STAGING_DIR", str(tmp_path / "staging"))
    root = built["parquet"].parent.parent
    config = ("--config", str(root / "largest.toml"))
    bucket = tmp_path / "bucket"
    run(f"{(root / 'jsonl').as_uri()}/*.jsonl", (bucket / "jsonl").as_uri(), *config)
    published = bucket / "jsonl"
    assert outputs(published) == outputs(built["jsonl"])
    summary = (built["jsonl"] / "summary.json").read_bytes()
    assert (published / "summary.json").read_bytes() == summary
    assert (published / "report.html").is_file() and (published / "_done").is_dir()
    assert not [p for p in published.rglob(".*")]  # no temporary file was uploaded
    run((root / "stack.parquet").as_uri(), tmp_path / "parquet", *config)
    assert outputs(tmp_path / "parquet") == outputs(built["parquet"])
    with pytest.raises(SystemExit, match="no table files"):
        run(f"{(root / 'jsonl').as_uri()}/*.csv", tmp_path / "none")


def test_the_corpus_is_byte_identical_whatever_the_workers(
    built: dict[str, Path], tmp_path: Path
) -> None:
    config = tmp_path / "small.toml"
    config.write_text('dedup_keep = "largest"\nshard_bytes = 1\n')  # a shard per repository
    source = built["parquet"].parent.parent / "jsonl"
    run(source, tmp_path / "one", "--config", str(config))
    run(source, tmp_path / "two", "--config", str(config), "--workers", "2")
    assert outputs(tmp_path / "two") == outputs(tmp_path / "one")
    assert corpus(tmp_path / "one").equals(corpus(built["jsonl"]))


_names = st.sampled_from(["a", "b", "c/d"])


@given(rows=st.lists(st.tuples(_names, _names, st.text(max_size=5)), max_size=30))
def test_rows_group_by_repository_and_the_first_of_a_path_wins(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]]
) -> None:
    """Against the obvious reference: a dict per repository filled in row order."""
    folder = tmp_path_factory.mktemp("rows")
    halves = (rows[: len(rows) // 2], rows[len(rows) // 2 :])
    for n, half in enumerate(halves):
        records = [{STACK.repo: r, STACK.path: p, STACK.content: c} for r, p, c in half]
        (folder / f"{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    expected: dict[str, dict[str, str]] = {}
    for repo, path, content in rows:
        expected.setdefault(repo, {}).setdefault(path, content)
    sources = table_repositories(sorted(str(p) for p in folder.iterdir()), STACK)
    repos = [s for s in sources if isinstance(s, TableRepository)]
    found = {
        r.name: dict(
            zip(
                (f.relative for f in r.files),
                (bytes(b or b"").decode("utf-8", "surrogatepass") for b in r.contents(r.files)),
                strict=True,
            )
        )
        for r in repos
    }
    assert found == expected
    duplicates = sum(len(s.listing().problems) for s in sources if s not in repos)
    assert duplicates == len(rows) - sum(len(paths) for paths in expected.values())
