"""Bytes per token of our tokenizer by language: the figures of :mod:`dsc.token_estimate`.

    python benchmarks/bench_token_estimate.py [--corpus OUT] [--sample-mb 20]

Trains :mod:`dsc.tokenizer` (32,000 tokens) on a sample of a ``build_corpus`` output (by
default the corpus of this machine's code that ``bench_tokens.py`` builds), then encodes real
code it never saw, the files of ``../shared/repos`` (old copies left out), each file's language
detected as ``build_corpus`` does. Prints UTF-8 bytes per token by language and over all files,
then the table to paste into ``dsc/token_estimate.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from dsc.filters import decode_text, detect_language
from dsc.tokenize_corpus import corpus_files
from dsc.tokenizer import train_tokenizer
from dsc.train_tokenizer import sample_texts

ROOT = Path(__file__).resolve().parent.parent
SHARED_REPOS = ROOT.parent / "shared" / "repos"
VOCAB = 32000
MIN_BYTES = 100_000  # languages with less held-out code than this are left to the default


def held_out_files() -> pl.DataFrame:
    """lang and text of every UTF-8 file of ../shared/repos in a language of ours."""
    paths = [
        p
        for p in sorted(SHARED_REPOS.rglob("*"))
        if p.is_file() and "@old" not in str(p.relative_to(SHARED_REPOS))
    ]
    raw = pl.DataFrame(
        {
            "path": [str(p.relative_to(SHARED_REPOS)) for p in paths],
            "raw": [p.read_bytes() for p in paths],
        }
    )
    return (
        raw.with_columns(lang=detect_language("path", "raw"), text=decode_text("raw"))
        .filter(pl.col("lang").is_not_null() & pl.col("text").is_not_null())
        .select("lang", "text")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "out" / "bench_tokens" / "corpus")
    parser.add_argument("--sample-mb", type=float, default=20)
    args = parser.parse_args()
    sample = list(sample_texts(corpus_files(args.corpus), int(args.sample_mb * 1e6), 0, 0.01))
    mb = sum(len(t.encode("utf-8")) for t in sample) / 1e6
    print(f"tokenizer of {VOCAB:,} tokens trained on {mb:.1f} MB of {args.corpus}")
    tokenizer = train_tokenizer(sample, VOCAB)
    files = held_out_files()
    tokens = [
        len(e.ids)
        for e in tokenizer.encode_batch_fast(files["text"].to_list(), add_special_tokens=False)
    ]
    files = files.with_columns(n_bytes=pl.col("text").str.len_bytes(), n_tokens=pl.Series(tokens))
    by_lang = (
        files.group_by("lang")
        .agg(pl.len().alias("files"), pl.col("n_bytes").sum(), pl.col("n_tokens").sum())
        .with_columns(bytes_per_token=pl.col("n_bytes") / pl.col("n_tokens"))
        .sort("lang")
    )
    with pl.Config(tbl_rows=-1):
        print(by_lang)
    total = files["n_bytes"].sum() / files["n_tokens"].sum()
    print(f"all files: {total:.2f} bytes per token")
    table = by_lang.filter(pl.col("n_bytes") >= MIN_BYTES)
    for lang, bpt in table.select("lang", "bytes_per_token").iter_rows():
        print(f'    "{lang}": {bpt:.2f},')


if __name__ == "__main__":
    main()
