"""Decontamination on real code: false drops on clean repositories, planted leaks of every
benchmark, the rule against a slow reference, invariances."""

from __future__ import annotations

import random
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc.benchmark_sources import (
    MULTIPL_E,
    STANDARD_SOURCES,
    BenchmarkField,
    BenchmarkRecord,
    load_records,
    source_records,
    user_source,
)
from dsc.decontaminate import AUDIT_COLUMNS, DecontConfig, build_index, decontaminate
from dsc.filters import filter_files
from dsc.sources import Repository, read_repositories, stdlib_repositories

# The targets of issue 13: clean files dropped, and leaks found.
MAX_FALSE_DROP_RATE = 0.001
# Planted records per benchmark (all of the small ones; a seeded sample of the large ones).
PLANTS_PER_BENCHMARK = 300


@pytest.fixture(scope="module")
def records(benchmarks_dir: Path) -> list[BenchmarkRecord]:
    return load_records(DecontConfig().sources, benchmarks_dir=benchmarks_dir)


@pytest.fixture(scope="module")
def index(records):
    return build_index(records)


def clean_files(repos: list[Repository]) -> pl.DataFrame:
    """The files stage 1 keeps, with their language, in sorted order."""
    raw = read_repositories(repos)
    kept = filter_files(raw.lazy()).filter("keep").select("repo", "path", "lang", "raw")
    return kept.collect().with_row_index("file_id")


@pytest.fixture(scope="module")
def repo_files(repos_dir: Path) -> pl.DataFrame:
    return clean_files([Repository(p.name, p) for p in sorted(repos_dir.iterdir()) if p.is_dir()])


@pytest.fixture(scope="module")
def stdlib_files() -> pl.DataFrame:
    return clean_files(stdlib_repositories())


def scan(frame: pl.DataFrame, index) -> pl.DataFrame:
    return decontaminate(frame.lazy(), index, lang="lang").collect()


def false_drops(frame: pl.DataFrame, index, name: str) -> pl.DataFrame:
    """The flagged files of a clean corpus, printed by language with their items."""
    out = scan(frame, index)
    flagged = out.filter(pl.col("contaminated"))
    print(f"\n{name}: {flagged.height}/{out.height} clean files flagged")
    by_lang = out.group_by("lang").agg(files=pl.len(), flagged=pl.col("contaminated").sum())
    for lang, files, n in by_lang.sort("lang").rows():
        print(f"  {lang:<20} {n:>4}/{files:<5} {n / files:7.2%}")
    for row in flagged.select("repo", "path", "decont_item_id", "decont_span_text").rows():
        print("  flagged:", row[0], row[1], row[2], repr(row[3][:80]))
    return flagged


def test_loaders_read_every_benchmark_the_evals_score(records):
    counts = dict(pl.DataFrame({"b": [r.benchmark for r in records]})["b"].value_counts().rows())
    assert counts == {
        "humaneval": 164,
        **{
            f"humaneval-{ext}": n
            for ext, n in zip(MULTIPL_E, (161, 158, 158, 161, 161, 158, 159), strict=True)
        },
        "mbpp": 974,
        "leetcode": 180,
        "gsm8k": 1319,
        "math": 5000,
        "ds1000": 1000,
        "santacoder-fim-py": 1043,
        "santacoder-fim-java": 1780,
        "santacoder-fim-js": 1969,
        "humaneval-infilling-single-line": 1033,
        "humaneval-infilling-multi-line": 5815,
        "humaneval-infilling-random-span": 1640,
        "humaneval-infilling-random-span-light": 164,
    }
    first = records[0]
    assert (first.benchmark, first.record_id) == ("humaneval", "Python/0")
    assert [(f.name, f.lang) for f in first.fields] == [
        ("prompt", "Python"),
        ("canonical_solution", "Python"),
        ("test", "Python"),
    ]
    mbpp = next(r for r in records if r.benchmark == "mbpp")
    assert [f.lang for f in mbpp.fields] == [None, "Python", "Python"]


def test_user_jsonl_source_and_bad_records(tmp_path):
    good = tmp_path / "mine.jsonl"
    good.write_text('{"id": "a", "q": "first question", "tests": ["x", "y"]}\n\n')
    got = list(source_records(user_source("mine", good, ["q", "tests"], "id", "Python"), good))
    fields = (
        BenchmarkField("q", "Python", "first question"),
        BenchmarkField("tests", "Python", "x\ny"),
    )
    assert got == [BenchmarkRecord("mine", "a", fields)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: missing text field 'q'"):
        list(source_records(user_source("bad", bad, ["q"], "id"), bad))
    with pytest.raises(ValueError, match="unknown benchmark"):
        DecontConfig(benchmarks=("humaneval", "nope"))
    with pytest.raises(ValueError, match="generic_share"):
        DecontConfig(generic_share=0.0)


def test_false_drops_on_real_repositories(index, repo_files):
    flagged = false_drops(repo_files, index, "../shared/repos")
    # Measured: 2 of 3,116 (0.06 %), both MBPP/607's `text = "The quick brown fox jumps over
    # the lazy dog"` in commons-cli's TextHelpAppendableTest.java (and its @old copy).
    assert flagged.height / repo_files.height <= MAX_FALSE_DROP_RATE


def test_false_drops_on_the_standard_library(index, stdlib_files):
    flagged = false_drops(stdlib_files, index, "standard library")
    # The README's default input starts with it; measured 15 of 1,781 files (0.84 %), before
    # 53 (2.98 %): tracebacks and library docs quoted in DS-1000 prompts, MBPP's
    # `def __init__(self, a, b)`. Above the 0.1 % target: a regression shows here.
    assert flagged.height / stdlib_files.height <= 0.01


# Planted leaks: benchmark -> (host language, fields that make the leak, joined by).
def _leak_spec(benchmark: str) -> tuple[str, tuple[str, ...], str]:
    if benchmark == "humaneval":
        return "Python", ("prompt", "canonical_solution"), ""
    if benchmark.startswith("humaneval-infilling") or benchmark.startswith("santacoder"):
        program = ("prompt", "canonical_solution", "suffix")
        return STANDARD_SOURCES[benchmark].lang or "", program, ""
    if benchmark.startswith("humaneval-"):
        return MULTIPL_E[benchmark.removeprefix("humaneval-")], ("prompt", "tests"), ""
    return {
        "mbpp": ("Python", ("code", "test_list"), "\n"),
        "leetcode": ("Python", ("prompt", "test"), "\n"),
        "ds1000": ("Python", ("prompt", "reference_code"), "\n"),
        "gsm8k": ("Markdown", ("question", "answer"), "\n"),
        "math": ("Markdown", ("problem", "solution"), "\n"),
    }[benchmark]


def leak_text(record: BenchmarkRecord) -> tuple[str, str]:
    """A record's solution in its context, as a training file would hold it, and its language."""
    lang, names, joiner = _leak_spec(record.benchmark)
    texts = {f.name: f.text for f in record.fields}
    if record.benchmark == "ds1000":  # the question as a docstring above its answer
        texts["prompt"] = f'"""\n{texts["prompt"]}\n"""'
    return joiner.join(texts[n] for n in names), lang


# Operators to respace, leaving comment markers (`//`, `/*`, `*/`) whole.
OPERATOR = re.compile(r"\s*([=+\-,<>]|(?<!/)\*(?!/)|(?<![/*])/(?![/*]))\s*")
HASH_COMMENTS = {"Python", "Shell", "PHP"}


def reformat(text: str, lang: str, rng: random.Random) -> str:
    """Reindent, respace operators, remove comment lines, add comment lines and trailing
    comment words, blank lines, CRLF (prose: respacing, blank lines and CRLF only)."""
    mark = "#" if lang in HASH_COMMENTS else "//"
    code = lang != "Markdown"
    indent = rng.choice(["\t", "  ", "        "])
    lines, in_triple = [], False
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.lstrip(" ")
        if code and not in_triple and stripped.startswith(mark) and not stripped.startswith("#!"):
            continue
        if code:
            line = indent * ((len(line) - len(stripped)) // 4) + stripped
        line = OPERATOR.sub(r" \1 ", line).rstrip()
        toggles = line.count('"""') + line.count("'''")
        if code and not in_triple and toggles == 0 and line and rng.random() < 0.3:
            line += f"  {mark} note"
        in_triple ^= toggles % 2 == 1
        lines.append(line)
        if code and not in_triple and rng.random() < 0.15:
            lines.append(f"{indent}{mark} planted comment: keep this helper")
        if rng.random() < 0.2:
            lines.append("")
    return "\r\n".join(lines)


MARKERS = ('"""', "'''", "/*", "*/", "`", "<!--", "-->")


def line_cuts(lines: list[str]) -> list[int]:
    """Line boundaries outside triple-quoted strings, block comments and template strings."""
    counts = dict.fromkeys(MARKERS, 0)
    cuts = []
    for i in range(len(lines) + 1):
        if (
            (counts['"""'] + counts["'''"]) % 2 == 0
            and counts["/*"] <= counts["*/"]
            and counts["`"] % 2 == 0
            and counts["<!--"] <= counts["-->"]
        ):
            cuts.append(i)
        if i < len(lines):
            for marker in MARKERS:
                counts[marker] += lines[i].count(marker)
    return cuts


def plant(host: bytes, leak: str, rng: random.Random) -> tuple[bytes, int, int]:
    """``leak`` inserted at a line boundary of ``host``: the content and the leak's span."""
    lines = host.decode("utf-8", errors="replace").split("\n")
    at = rng.choice(line_cuts(lines))
    head = "\n".join(lines[:at]) + ("\n" if at else "")
    start = len(head.encode())
    content = head + leak + "\n" + "\n".join(lines[at:])
    return content.encode(), start, start + len(leak.encode())


def planted_leaks(records: list[BenchmarkRecord], hosts: pl.DataFrame) -> pl.DataFrame:
    rng = random.Random(0)
    pools = {lang: frame.select("path", "raw").rows() for (lang,), frame in hosts.group_by("lang")}
    rows = []
    for benchmark in STANDARD_SOURCES:
        of_benchmark = [r for r in records if r.benchmark == benchmark]
        count = min(PLANTS_PER_BENCHMARK, len(of_benchmark))
        for record in rng.sample(of_benchmark, count):
            text, lang = leak_text(record)
            path, raw = rng.choice(pools[lang])
            content, start, end = plant(raw, reformat(text, lang, rng), rng)
            rows.append((benchmark, record.record_id, lang, path, content, start, end))
    schema = ["benchmark", "record_id", "lang", "path", "raw", "leak_start", "leak_end"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_planted_leaks_of_every_benchmark_are_found(records, index, repo_files):
    hosts = scan(repo_files, index).filter(~pl.col("contaminated"))
    out = scan(planted_leaks(records, hosts), index)
    # Found: flagged, with the matched span overlapping the planted leak.
    found = (
        pl.col("contaminated")
        & (pl.col("decont_span_start") < pl.col("leak_end"))
        & (pl.col("decont_span_end") > pl.col("leak_start"))
    )
    recall = out.group_by("benchmark", maintain_order=True).agg(
        planted=pl.len(), found=found.sum(), missed=pl.col("record_id").filter(~found)
    )
    print("\nrecall on planted leaks:")
    for benchmark, planted, hit, missed in recall.rows():
        print(f"  {benchmark:<38} {hit:>4}/{planted:<4} {hit / planted:7.2%}  missed {missed[:5]}")
    total = out.select(found.mean()).item()
    print(f"  all: {total:.2%}")
    # Measured on this sample: 99.65 %; on every record of every benchmark: 99.7 %. Below
    # the 100 % target: the misses are tiny records (MultiPL-E's `add`, `max_element`, ...)
    # whose planted text holds no identifying gram once comments are stripped.
    assert total >= 0.995


def test_audit_columns_describe_the_match(index):
    # HumanEval/0's prompt as published, comments added: found from its first word.
    prompt = (
        "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: "
        'float) -> bool:  # check\n    """ Check if in given list of numbers, are any two '
        "numbers closer to each other than\n    given threshold.\n"
    )
    frame = pl.DataFrame(
        {"raw": [f"x = 1\n{prompt}".encode(), b"", None], "lang": ["Python", "Python", None]}
    )
    out = scan(frame, index)
    assert out.columns == ["raw", "lang", *AUDIT_COLUMNS]
    first = out.row(0, named=True)
    assert first["contaminated"]
    assert (first["decont_benchmark"], first["decont_item_id"]) == ("humaneval", "Python/0:prompt")
    # From the first shared gram to the last identifying one: the prompt's generic tail
    # ("... closer to each other than given threshold") is not indexed.
    assert first["decont_span_text"].startswith("from typing import List")
    assert prompt.startswith(first["decont_span_text"])
    assert out["contaminated"].to_list()[1:] == [False, None]


def test_short_solutions_never_match_alone(index, records):
    # HumanEval/53's whole solution is `return x + y`: ordinary code must not match it.
    code = b"def f(x, y):\n    return x + y\n\ndef g(x, y):\n    return x, y\n"
    assert not scan(pl.DataFrame({"raw": [code], "lang": ["Python"]}), index)["contaminated"][0]


# Benchmarks whose fields are whole texts (not a prefix cut inside a string, as infilling's).
WHOLE_FIELDS = ("humaneval", *(f"humaneval-{ext}" for ext in MULTIPL_E), "leetcode", "gsm8k")


@pytest.fixture(scope="module")
def whole_records(records) -> list[BenchmarkRecord]:
    return [r for r in records if r.benchmark in WHOLE_FIELDS]


@given(pick=st.integers(min_value=0))
def test_a_file_equal_to_a_matchable_record_is_flagged(whole_records, index, pick):
    record = whole_records[pick % len(whole_records)]
    text = b"\n".join(f.text.encode() for f in record.fields)
    out = scan(pl.DataFrame({"raw": [text], "lang": [record.fields[0].lang]}), index)
    if (record.benchmark, record.record_id) not in set(index.unmatchable):
        assert out["contaminated"][0]


# The rule spelled out on prose (no comments): (separator, word) strings gram by gram.
PIECE = re.compile(rb"\\\S|[A-Za-z0-9_\x80-\xff]+|\S")
WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")


def grams(text: bytes, n: int) -> list[tuple[tuple[bytes, bytes], ...]]:
    pairs, sep = [], b""
    for piece in PIECE.findall(text):
        if WORD.fullmatch(piece):
            pairs.append((sep, piece))
            sep = b""
        else:
            sep += piece.replace(b"'", b'"')
    return [((b"", pairs[i][1]), *pairs[i + 1 : i + n]) for i in range(len(pairs) - n + 1)]


def reference_contaminated(text: bytes, items: list[str], cfg: DecontConfig) -> bool:
    # Words as the gram splitter sees them: a backslash escape (`\n`) is a separator, so the
    # text `a\nc1` holds the word `c1`, not `nc1`.
    words_of = [{w for p in grams(t.encode(), 1) for _, w in p} for t in items]

    def generic(word: bytes) -> bool:
        holding = sum(word in ws for ws in words_of)
        return holding >= 2 and holding > cfg.generic_share * len(items)

    def identifying(gram) -> bool:
        specific = {w for _, w in gram if not generic(w)}
        # No word that can name something (numbers, single letters): counts as none.
        nameable = any(len(w) >= 2 and not w[:1].isdigit() for w in specific)
        return (len(specific) if nameable else 0) >= cfg.min_distinct_words

    file_grams = set(grams(text, cfg.ngram))
    return any(
        identifying(g) and g in file_grams for t in items for g in grams(t.encode(), cfg.ngram)
    )


@given(st.data())
def test_matches_the_reference_on_small_indexes(data):
    words = st.sampled_from(["a", "b", "c1", "_d", "é", "return", "x", "7", "0x1"])
    seps = st.sampled_from([" ", "\n\t", "(", ", ", "+", "'", '"', "\\n"])
    texts = st.lists(st.tuples(words, seps), max_size=25).map(
        lambda parts: "".join(w + s for w, s in parts)
    )
    cfg = DecontConfig(
        ngram=data.draw(st.integers(2, 5)),
        min_distinct_words=data.draw(st.integers(0, 2)),
        generic_share=data.draw(st.sampled_from([0.3, 1.0])),
    )
    item_texts = data.draw(st.lists(texts, min_size=1, max_size=4))
    small = [
        BenchmarkRecord("b", str(i), (BenchmarkField("text", None, t),))
        for i, t in enumerate(item_texts)
    ]
    files = data.draw(st.lists(texts, max_size=5))
    out = scan(
        pl.DataFrame(
            {"raw": [f.encode() for f in files], "lang": [None] * len(files)},
            schema={"raw": pl.Binary, "lang": pl.String},
        ),
        build_index(small, cfg),
    )
    expected = [reference_contaminated(f.encode(), item_texts, cfg) for f in files]
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
