"""The file filters against a slow, obvious Python reference, and at their exact thresholds."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc import filters
from dsc import filters_reference as ref
from dsc.filters import FilterConfig


def stats_of(texts: list[str]) -> list[dict[str, float]]:
    df = pl.DataFrame({"content": texts}, schema={"content": pl.String})
    return df.select(filters.text_stats("content")).unnest("content").to_dicts()


# Characters Python's Unicode database knows (Rust's may be newer: unassigned code points
# could differ in category), plus the line-break characters under test.
text_chars = st.characters(blacklist_categories=("Cs", "Cn"))
line_pieces = st.sampled_from(
    ["\r\n", "\r", "\n", "e\u0301", "\U0001d518\U0001d52b", "\t", " ", "\u0663", "\u216b"]
)
texts = st.lists(st.one_of(st.text(text_chars, max_size=20), line_pieces), max_size=30).map("".join)

# ---------------------------------------------------------------- statistics


@given(st.lists(texts, min_size=1, max_size=8))
def test_stats_match_reference(batch: list[str]) -> None:
    assert stats_of(batch) == [ref.text_stats(t) for t in batch]


@pytest.mark.parametrize(
    "text",
    ["", "\n", "\r\n", "\r", "a", "a\r\nb", "a\rb\r", "no newline at end", "x\n\n\ny"],
)
def test_stats_edge_cases(text: str) -> None:
    assert stats_of([text]) == [ref.text_stats(text)]


def test_one_five_megabyte_line() -> None:
    text = "ab1 " * (5 * 1024 * 1024 // 4)
    (got,) = stats_of([text])
    assert got == ref.text_stats(text)
    assert got["max_line_len"] == 5 * 1024 * 1024


def test_null_content_gives_null_stats() -> None:
    df = pl.DataFrame({"content": [None, "x"]}, schema={"content": pl.String})
    out = df.select(filters.text_stats("content").struct.field("n_chars"))
    assert out["n_chars"].to_list() == [None, 1]


html_atoms = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<!--",
        "-->",
        "<script>",
        "</SCRIPT>",
        "<style x=1>",
        "</style>",
        "<",
        ">",
        "<b",
        "a",
        "text",
        " ",
        "\n",
        "  \t",
        "é",
        "<?x?>",
        "<!DOCTYPE html>",
        "1 < 2",
    ]
)


@given(st.lists(html_atoms, max_size=40).map("".join))
def test_html_visible_chars_match_reference(html: str) -> None:
    df = pl.DataFrame({"content": [html]})
    got = df.select(filters.html_visible_chars("content")).item()
    assert got == ref.visible_text_chars(html)


# ---------------------------------------------------------------- rules at their thresholds


def reason(
    text: str | bytes, lang: str | None = None, cfg: FilterConfig | None = None
) -> str | None:
    dtype = pl.Binary if isinstance(text, bytes) else pl.String
    df = pl.DataFrame({"raw": [text], "lang": [lang]}, schema={"raw": dtype, "lang": pl.String})
    return df.select(filters.filter_reason("raw", "lang", cfg)).item()


def lines_of(length: int, count: int = 2) -> str:
    return "\n".join(["a" * length] * count) + "\n"


rule_texts = st.lists(
    st.sampled_from(
        ["a", "1", " ", "\n", "\r\n", "<p>", "</p>", "DO NOT EDIT", "é", "\x01", "\x00"]
    )
    | st.text(text_chars, max_size=5)
    | st.sampled_from(["a" * 120, "b" * 999, "c" * 1000]),
    max_size=40,
).map("".join)
langs = st.sampled_from([None, "Python", "HTML", "JSON", "YAML"])


@given(st.lists(st.tuples(rule_texts, langs), min_size=1, max_size=10))
def test_filter_reason_matches_reference(rows: list[tuple[str, str | None]]) -> None:
    cfg = FilterConfig(data_min_chars=5, data_max_chars=60, html_min_visible_chars=3)
    raws = [t.encode() for t, _ in rows]
    df = pl.DataFrame(
        {"raw": raws, "lang": [lang for _, lang in rows]},
        schema={"raw": pl.Binary, "lang": pl.String},
    )
    got = df.select(filters.filter_reason("raw", "lang", cfg)).to_series().to_list()
    assert got == [
        ref.filter_reason(raw, lang, cfg) for raw, (_, lang) in zip(raws, rows, strict=True)
    ]


def test_avg_line_length_threshold() -> None:
    assert reason(lines_of(99)) is None
    assert reason(lines_of(100)) == "avg_line_length"
    assert reason(lines_of(100), cfg=FilterConfig(max_avg_line_len=100.5)) is None


def test_max_line_length_threshold() -> None:
    short = "b\n" * 50
    assert reason("a" * 999 + "\n" + short) is None
    assert reason("a" * 1000 + "\n" + short) == "max_line_length"
    assert reason("a" * 1000 + "\n" + short, cfg=FilterConfig(max_line_len=1001)) is None


def test_alpha_fraction_threshold() -> None:
    assert reason("ab123456") is None  # exactly 0.25
    assert reason("ab1234567") == "alpha_fraction"
    assert reason("ab1234567", cfg=FilterConfig(min_alpha_frac=0.2)) is None


def test_html_thresholds() -> None:
    body = "w\n" * 50  # 100 visible characters: "w" + one whitespace run, 50 times
    assert reason(f"<p>{body}</p>", "HTML") is None
    assert reason(f"<p>{body[:-2]}</p>", "HTML") == "html_visible_chars"
    # 100 visible of 500 characters is exactly 20 %.
    padded = f"<p>{body}</p>" + "<i>" * 131
    assert len(padded) == 500
    assert reason(padded, "HTML") is None
    assert reason(padded + "<br>", "HTML") == "html_visible_fraction"


def test_data_size_window() -> None:
    doc = "{\n" + '"k": "' + "v" * 39 + '"\n}'
    assert len(doc) == 50
    assert reason(doc, "JSON") is None
    assert reason(doc[:-3] + "}", "JSON") == "data_too_short"
    big = "k: value\n" * 556
    assert len(big) == 5004
    assert reason(big[:-4], "YAML") is None
    assert reason(big, "YAML") == "data_too_long"
    assert reason(big, "Python") is None


def test_generated_marker_within_scan_lines() -> None:
    body = "value = compute(x)\n" * 10
    assert reason("# Generated by the protocol buffer compiler.\n" + body) == "generated"
    assert reason("y = f(x)\n" * 4 + "# DO NOT EDIT\n" + body) == "generated"
    assert reason("y = f(x)\n" * 5 + "# DO NOT EDIT\n" + body) is None
    assert reason("# do not edit\n" + body, cfg=FilterConfig(generated_markers=())) is None


def test_undecodable_rows_get_reasons_not_crashes() -> None:
    assert reason(b"caf\xe9 au lait\n") == "invalid_utf8"
    assert reason(b"\x7fELF\x02\x01\x00\x00binary") == "binary"
    assert reason(b"") == "empty"
    assert reason(b"def f():\n    return 1\n", "Python") is None


def test_rule_order_names_the_first_failure() -> None:
    # Generated *and* with a too-long line: the generated marker is checked first.
    assert reason("// DO NOT EDIT\n" + "a" * 2000 + "\n") == "generated"


def test_wrong_dtype_is_a_clear_error() -> None:
    df = pl.DataFrame({"raw": [1], "lang": ["Python"]})
    with pytest.raises(pl.exceptions.ComputeError, match="must be String or Binary"):
        df.select(filters.filter_reason("raw", "lang"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_alpha_frac": 1.5}, "min_alpha_frac"),
        ({"data_min_chars": 10, "data_max_chars": 5}, "data_min_chars"),
        ({"max_line_len": 0}, "max_line_len"),
    ],
)
def test_invalid_config_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(FilterConfig(), **kwargs)


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("path", "head", "lang"),
    [
        ("pkg/mod.py", b"", "Python"),
        ("src/Main.java", b"", "Java"),
        ("a/b.cc", b"", "C++"),
        ("a/b.h", b"", "C"),
        ("x.cs", b"", "C#"),
        ("web/app.tsx", b"", "TypeScript"),
        ("web/app.mjs", b"", "JavaScript"),
        ("cmd/main.go", b"", "Go"),
        ("src/lib.rs", b"", "Rust"),
        ("index.php", b"", "PHP"),
        ("Rakefile", b"", "Ruby"),
        ("deploy/Dockerfile", b"", "Dockerfile"),
        ("CMakeLists.txt", b"", "CMake"),
        ("README.md", b"", "Markdown"),
        ("conf.yml", b"", "YAML"),
        ("data.json", b"", "JSON"),
        ("page.html", b"", "HTML"),
        ("model.stan", b"", "Stan"),
        ("a.ipynb", b"", "Jupyter Notebook"),
        ("bin/tool", b"#!/usr/bin/env python3\nprint(1)\n", "Python"),
        ("bin/run", b"#!/bin/sh\n", "Shell"),
        ("bin/x", b"#!/usr/bin/perl -w\n", "Perl"),
        ("LICENSE", b"MIT", None),
        ("img.png", b"\x89PNG", None),
    ],
)
def test_detect_language(path: str, head: bytes, lang: str | None) -> None:
    df = pl.DataFrame({"path": [path], "raw": [head]})
    assert df.select(filters.detect_language("path", "raw")).item() == lang


# ---------------------------------------------------------------- the plugin inside Polars


def test_pinned_polars_wheel_runs_the_plugin_lazily_and_streaming() -> None:
    assert pl.__version__ == "2.1.0"
    lf = pl.LazyFrame({"path": ["a.py", "b.py"], "raw": [b"value = compute(1)\n", b"\x00"]})
    out = filters.filter_files(lf).collect(engine="streaming")
    assert out["reason"].to_list() == [None, "binary"]


def test_namespace_matches_functions() -> None:
    df = pl.DataFrame({"content": ["ab\ncd\n", "<p>hi</p>"]})
    via_ns = df.select(pl.col("content").dsc.text_stats())
    via_fn = df.select(filters.text_stats("content"))
    assert via_ns.equals(via_fn)
    assert df.select(pl.col("content").dsc.html_visible_chars()).to_series().to_list() == [6, 2]


def test_filter_files_on_real_stdlib_code() -> None:
    from dsc.sources import read_repositories, stdlib_repositories

    repos = [r for r in stdlib_repositories() if r.name in ("stdlib/json", "stdlib/email")]
    out = filters.filter_files(read_repositories(repos).lazy()).collect()
    assert out.height > 20
    py = out.filter(pl.col("lang") == "Python")
    # Real, hand-written library code overwhelmingly passes the rules.
    assert py["keep"].mean() > 0.9
    assert set(out["reason"].drop_nulls()) <= set(filters.REASONS)
