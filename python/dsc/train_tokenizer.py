"""``python -m dsc.train_tokenizer``: the code BPE of :mod:`dsc.tokenizer`, trained on a corpus.

The training text is a seeded sample of the corpus samples, streamed to the trainer one corpus
shard at a time (memory: one shard plus the trainer's word counts, never the whole corpus):
each document is in the sample when a keyed hash of its id falls under
``1.25 sample_bytes / corpus_bytes``, up to ``sample_bytes`` in all, and documents of the
held-out split (the one ``dsc.tokenize_corpus`` makes with the same seed and fraction) are never
in it. The same corpus and seed give the same tokenizer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from dsc.token_shards import is_validation, keyed_unit
from dsc.tokenize_corpus import corpus_files
from dsc.tokenizer import DEFAULT_VOCAB_SIZE, save_tokenizer, train_tokenizer

OVERSAMPLE = 1.25


def corpus_bytes(files: Sequence[Path]) -> int:
    """UTF-8 bytes of all sample texts (one streaming pass over the text column)."""
    total = pl.scan_parquet(list(files)).select(pl.col("text").str.len_bytes().sum()).collect()
    return int(total.item() or 0)


def sample_texts(
    files: Sequence[Path], sample_bytes: int, seed: int, valid_fraction: float
) -> Iterator[str]:
    """The training sample, in corpus order, until ``sample_bytes`` of text were given."""
    # Drawn a little above the target, so that the sample usually reaches it before the corpus
    # ends; the rest of the corpus is then never read.
    rate = min(1.0, OVERSAMPLE * sample_bytes / max(corpus_bytes(files), 1))
    given = 0
    for path in files:
        frame = pl.read_parquet(path, columns=["id", "text"]).drop_nulls()
        ids = frame["id"].to_list()
        keep = (keyed_unit(ids, seed, "tokenizer-sample") < rate) & ~is_validation(
            ids, seed, valid_fraction
        )
        for text, kept in zip(frame["text"].to_list(), keep, strict=True):
            if kept:
                yield text
                given += len(text.encode("utf-8"))
                if given >= sample_bytes:
                    return


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dsc.train_tokenizer", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="build_corpus output dir")
    parser.add_argument("--out", type=Path, required=True, help="tokenizer directory to write")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE, help="BPE tokens")
    parser.add_argument("--sample-bytes", type=int, default=1 << 30, help="training text size")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and split")
    parser.add_argument(
        "--valid-fraction", type=float, default=0.01, help="held-out share (never trained on)"
    )
    parser.add_argument("--model-max-length", type=int, default=16384, help="for transformers")
    args = parser.parse_args(argv)
    if args.sample_bytes <= 0:
        parser.error(f"--sample-bytes must be > 0, got {args.sample_bytes}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    files = corpus_files(args.corpus)
    texts = sample_texts(files, args.sample_bytes, args.seed, args.valid_fraction)
    try:
        tokenizer = train_tokenizer(texts, args.vocab_size)
    except ValueError as exc:
        raise SystemExit(f"train_tokenizer: {exc}") from exc
    save_tokenizer(tokenizer, args.out, args.model_max_length)
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    print(f"tokenizer of {size:,} tokens written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
