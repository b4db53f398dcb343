"""Decontamination on real code: planted benchmark leaks, false positives, invariances."""

from __future__ import annotations

import random
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc.benchmark_sources import (
    STANDARD_SOURCES,
    BenchmarkItem,
    load_items,
    source_items,
    user_source,
)
from dsc.decontaminate import AUDIT_COLUMNS, DecontConfig, build_index, decontaminate
from dsc.sources import read_repositories, stdlib_repositories

NGRAM = 10
# The same token rule as dsc-core's `decont` module, written the obvious way.
TOKEN = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")


def tokens(text: bytes) -> list[bytes]:
    return TOKEN.findall(text)


def reference_contaminated(text: bytes, items: list[BenchmarkItem]) -> bool:
    """The paper's rule spelled out: any shared 10-gram, or a whole short item (3..9 tokens),
    windows made only of numbers left out."""
    file_tokens = tokens(text)
    joined = b"\x00".join(file_tokens)
    windows = {tuple(file_tokens[i : i + NGRAM]) for i in range(len(file_tokens) - NGRAM + 1)}
    for item in items:
        item_tokens = tokens(item.text.encode())
        if len(item_tokens) >= NGRAM:
            grams = (tuple(item_tokens[i : i + NGRAM]) for i in range(len(item_tokens) - NGRAM + 1))
            if any(g in windows and not _numbers_only(g) for g in grams):
                return True
        elif len(item_tokens) >= 3 and not _numbers_only(item_tokens):
            needle = b"\x00".join(item_tokens)
            at = joined.find(needle)
            while at != -1:
                # The match must start and end on token boundaries.
                end = at + len(needle)
                if (at == 0 or joined[at - 1] == 0) and (end == len(joined) or joined[end] == 0):
                    return True
                at = joined.find(needle, at + 1)
    return False


def _numbers_only(window) -> bool:
    return all(token[:1].isdigit() for token in window)


@pytest.fixture(scope="module")
def items(benchmarks_dir: Path) -> list[BenchmarkItem]:
    sources = [STANDARD_SOURCES[name] for name in ("humaneval", "mbpp", "gsm8k", "math")]
    return load_items(sources, benchmarks_dir=benchmarks_dir)


@pytest.fixture(scope="module")
def index(items):
    return build_index(items)


@pytest.fixture(scope="module")
def stdlib_files() -> pl.DataFrame:
    """Every Python file of the standard library (about 30 MB here), in sorted order."""
    frame = read_repositories(stdlib_repositories())
    return frame.filter(pl.col("path").str.ends_with(".py")).with_row_index("file_id")


def scan(frame: pl.DataFrame, index) -> pl.DataFrame:
    return decontaminate(frame.lazy(), index).collect()


def test_loaders_read_every_standard_benchmark(items):
    counts = pl.DataFrame(items).group_by("benchmark").len().sort("benchmark")
    # Records times indexed fields, as published.
    assert dict(counts.iter_rows()) == {
        "gsm8k": 1319 * 2,
        "humaneval": 164 * 3,
        "math": 5000 * 2,
        "mbpp": 974 * 3,
    }
    first = items[0]
    assert (first.benchmark, first.item_id) == ("humaneval", "Python/0:prompt")


def test_user_jsonl_source_and_bad_records(tmp_path):
    good = tmp_path / "mine.jsonl"
    good.write_text('{"id": "a", "q": "first question", "tests": ["x", "y"]}\n\n')
    got = list(source_items(user_source("mine", good, ["q", "tests"], "id"), good))
    assert got == [
        BenchmarkItem("mine", "a:q", "first question"),
        BenchmarkItem("mine", "a:tests", "x\ny"),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: missing text field 'q'"):
        list(source_items(user_source("bad", bad, ["q"], "id"), bad))
    with pytest.raises(ValueError, match="unknown benchmark"):
        DecontConfig(benchmarks=("humaneval", "nope"))


def _reformat(text: str, rng: random.Random) -> str:
    """Reindent, respace operators, add blank and comment lines, switch to CRLF."""
    lines = [line.replace("    ", "\t") for line in text.splitlines()]
    lines = [re.sub(r"\s*([=+\-*/,<>])\s*", r" \1 ", line).rstrip() + "  " for line in lines]
    # A comment line at a line boundary that leaves a full window on one side of it.
    counts = [len(tokens(line.encode())) for line in lines]
    cuts = [i for i in range(1, len(lines)) if sum(counts[:i]) >= NGRAM or sum(counts[i:]) >= NGRAM]
    if cuts:
        lines.insert(rng.choice(cuts), "    # planted comment: keep this helper")
    spaced = [part for line in lines for part in (line, "")]
    indented = ["        " + line for line in spaced]
    return "\r\n".join(["# leaked code below", *indented, "# end of leak"])


def _plants(items: list[BenchmarkItem]) -> list[BenchmarkItem]:
    """Every HumanEval solution and every MBPP solution the index can match (>= 3 tokens)."""
    solutions = [
        item
        for item in items
        if item.item_id.endswith((":canonical_solution", ":code"))
        and len(tokens(item.text.encode())) >= 3
    ]
    assert len(solutions) > 1000
    return solutions


def test_planted_leaks_are_all_found(items, index, stdlib_files):
    rng = random.Random(0)
    hosts = stdlib_files.filter(~pl.col("file_id").is_in(_flagged_ids(stdlib_files, index)))
    host_rows = hosts.select("path", "raw").rows()
    planted_rows = []
    for plant_id, item in enumerate(_plants(items)):
        path, raw = host_rows[rng.randrange(len(host_rows))]
        lines = raw.split(b"\n")
        at = rng.randrange(len(lines) + 1)
        leak = _reformat(item.text, rng).encode()
        start = len(b"\n".join(lines[:at])) + (1 if at else 0)
        content = b"\n".join([*lines[:at], leak, *lines[at:]])
        planted_rows.append((plant_id, path, content, start, start + len(leak)))
    planted = pl.DataFrame(
        planted_rows, schema=["plant_id", "path", "raw", "leak_start", "leak_end"], orient="row"
    )
    out = scan(planted, index)
    missed = out.filter(~pl.col("contaminated"))
    assert missed.height == 0, f"missed {missed.height} leaks, e.g. {missed['path'][0]}"
    # The reported span lies inside the planted leak.
    inside = (pl.col("decont_span_start") >= pl.col("leak_start")) & (
        pl.col("decont_span_end") <= pl.col("leak_end")
    )
    assert out.filter(~inside).height == 0


def _flagged_ids(frame: pl.DataFrame, index) -> list[int]:
    return scan(frame, index).filter(pl.col("contaminated"))["file_id"].to_list()


def test_false_positive_rate_on_the_standard_library(items, index, stdlib_files):
    flagged = scan(stdlib_files, index).filter(pl.col("contaminated"))
    rate = flagged.height / stdlib_files.height
    print(f"\nstdlib: {flagged.height}/{stdlib_files.height} files flagged ({rate:.2%})")
    print(flagged.group_by("decont_benchmark").len())
    # Measured 2.9 % (52 of 1790 files) on CPython 3.11's library; a regression shows here.
    assert rate < 0.04
    # Every flag is explained by a real shared window, checked the slow way.
    for raw, item_id in flagged.select("raw", "decont_item_id").rows():
        item = next(i for i in items if i.item_id == item_id)
        assert reference_contaminated(raw, [item])


def test_audit_columns_describe_the_match(index):
    solution = "for idx, elem in enumerate(numbers):\n    for idx2, elem2 in enumerate(numbers):\n"
    frame = pl.DataFrame({"raw": [f"x = 1\n{solution}".encode(), b"", None]})
    out = scan(frame, index)
    assert out.columns == ["raw", *AUDIT_COLUMNS]
    first = out.row(0, named=True)
    assert first["contaminated"]
    assert first["decont_benchmark"] == "humaneval"
    assert first["decont_item_id"] == "Python/0:canonical_solution"
    assert first["decont_span_text"] == solution[: solution.rindex("numbers") + len("numbers")]
    assert out["contaminated"].to_list()[1:] == [False, None]


@given(data=st.data())
def test_a_file_equal_to_an_item_is_always_flagged(items, index, data):
    item = data.draw(st.sampled_from(items))
    out = scan(pl.DataFrame({"raw": [item.text.encode()]}), index)
    item_tokens = tokens(item.text.encode())
    assert out["contaminated"][0] == (len(item_tokens) >= 3 and not _numbers_only(item_tokens))


@given(st.data())
def test_matches_the_reference_on_small_indexes(data):
    words = st.sampled_from(["a", "b", "c1", "_d", "é", "return", "x", "7", "0x1"])
    seps = st.sampled_from([" ", "\n\t", "(", ", ", "+"])
    texts = st.lists(st.tuples(words, seps), max_size=25).map(
        lambda parts: "".join(w + s for w, s in parts)
    )
    item_texts = data.draw(st.lists(texts, min_size=1, max_size=4))
    small = [BenchmarkItem("b", str(i), t) for i, t in enumerate(item_texts)]
    files = data.draw(st.lists(texts, max_size=5))
    out = scan(
        pl.DataFrame({"raw": [f.encode() for f in files]}, schema={"raw": pl.Binary}),
        build_index(small),
    )
    expected = [reference_contaminated(f.encode(), small) for f in files]
    assert out["contaminated"].to_list() == expected


@given(seed=st.integers(0, 2**32 - 1), chunks=st.integers(1, 7))
def test_independent_of_row_order_and_chunking(index, stdlib_files, seed, chunks):
    sample = stdlib_files.sample(n=min(60, stdlib_files.height), seed=seed)
    baseline = scan(sample.sort("file_id"), index).drop("raw")
    shuffled = sample.sample(fraction=1.0, shuffle=True, seed=seed + 1)
    size = max(1, shuffled.height // chunks)
    pieces = [shuffled.slice(i, size) for i in range(0, shuffled.height, size)]
    chunked = pl.concat(pieces, rechunk=False)
    assert chunked.n_chunks() == len(pieces)
    again = scan(chunked, index).drop("raw").sort("file_id")
    assert again.equals(baseline)
