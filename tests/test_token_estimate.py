"""Token estimates of files and samples against the obvious Python arithmetic."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dsc.token_estimate import BYTES_PER_TOKEN, DEFAULT_BYTES_PER_TOKEN, file_tokens, sample_tokens

LANGS = st.sampled_from([*BYTES_PER_TOKEN, "Klingon"])  # one language without a figure


def rate(lang: str) -> float:
    return BYTES_PER_TOKEN.get(lang, DEFAULT_BYTES_PER_TOKEN)


@given(st.lists(st.tuples(st.integers(0, 10**9), LANGS), max_size=20))
def test_file_estimates_are_bytes_over_the_language_rate(files: list[tuple[int, str]]) -> None:
    df = pl.DataFrame(files, schema={"n_bytes": pl.UInt64, "lang": pl.String}, orient="row")
    got = df.select(file_tokens("n_bytes", "lang")).to_series().to_list()
    assert got == [round(n / rate(lang)) for n, lang in files]


@given(st.lists(st.lists(st.tuples(st.integers(0, 10**6), LANGS), max_size=8), max_size=10))
def test_a_sample_is_the_sum_of_its_files(samples: list[list[tuple[int, str]]]) -> None:
    offsets = [[sum(n for n, _ in files[:i]) for i in range(len(files) + 1)] for files in samples]
    langs = [[lang for _, lang in files] for files in samples]
    df = pl.DataFrame(
        {"offsets": offsets, "langs": langs},
        schema={"offsets": pl.List(pl.UInt64), "langs": pl.List(pl.String)},
    )
    got = df.select(sample_tokens("offsets", "langs")).to_series().to_list()
    want = [round(sum(n / rate(lang) for n, lang in files)) for files in samples]
    assert got == want
