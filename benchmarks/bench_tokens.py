"""Token data on real code: tokenizer quality and training time, tokenising speed, loader speed.

    python benchmarks/bench_tokens.py [--corpus OUT] [--sample-mb 40] [--tokenize-mb 20]

The corpus is ``python -m dsc.build_corpus``'s on this machine's code (the README's main job;
built into ``out/bench_tokens/corpus`` when ``--corpus`` is not given). Everything runs on one
core per process (``RAYON_NUM_THREADS=1``, one Polars and one torch thread), in this run:

1. **Tokenizer.** Ours (:mod:`dsc.tokenizer`) and HF's stock ``ByteLevelBPETokenizer`` recipe
   (GPT-2's pre-tokenizer, ``min_frequency=2``), both trained on the same streamed sample of the
   corpus with 32,000 tokens; training seconds of each. Then UTF-8 bytes per token (higher is
   better) on held-out real code the corpus never saw: the repositories of ``../shared/repos``
   by language, and the corpus' held-out split. Target: ours >= 3 % better on average over the
   languages, never more than 1 % worse on one.
2. **Tokenising.** ``dsc.token_shards.tokenize_shard`` over ``--tokenize-mb`` of corpus shards
   (reading Parquet, writing .bin/.idx, the document tables and markers included) against
   datatrove's ``DocumentTokenizer`` with the same tokenizer file on the same documents, handed
   to it already in memory, with ``shuffle_documents=False`` so both write documents in input
   order (its default shuffle is extra work ours does not do). Best of ``--repeat`` each.
   Targets: >= 1.5x datatrove per core; ``--workers 2`` >= 1.7x ``--workers 1`` (whole command,
   process start included).
3. **Loader.** ``PackedLoader`` tokens per second on one core with FIM at 0.5, at 4K and 16K
   windows, best of ``--repeat``. Target: >= 1 M tokens/s.
"""

from __future__ import annotations

import os

# Per-core figures: these must precede the imports below.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_THREADS"] = "1"  # HF tokenizers' pool
os.environ["POLARS_MAX_THREADS"] = "1"

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from tokenizers import ByteLevelBPETokenizer, Tokenizer

from dsc.special_tokens import EOS
from dsc.token_shards import TokenizeTask, tokenize_shard
from dsc.tokenize_corpus import corpus_files
from dsc.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer
from dsc.train_tokenizer import sample_texts

ROOT = Path(__file__).resolve().parent.parent
SHARED_REPOS = ROOT.parent / "shared" / "repos"
LANGUAGES = {
    ".py": "Python", ".c": "C", ".cpp": "C++", ".hpp": "C++", ".cc": "C++", ".java": "Java",
    ".js": "JavaScript", ".ts": "TypeScript", ".rs": "Rust", ".md": "Markdown", ".go": "Go",
    ".cs": "C#", ".php": "PHP", ".rb": "Ruby", ".kt": "Kotlin",
}  # fmt: skip
VOCAB = 32000


def best_of(repeat: int, *contestants: Callable[[], object]) -> list[float]:
    """Best wall time of each contestant over ``repeat`` rounds, the contestants taking turns
    in each round so that a machine busy with something else slows them alike."""
    times: list[list[float]] = [[] for _ in contestants]
    for _ in range(repeat):
        for fn, measured in zip(contestants, times, strict=True):
            start = time.perf_counter()
            fn()
            measured.append(time.perf_counter() - start)
    return [min(t) for t in times]


def build_corpus(out: Path) -> Path:
    if not (out / "summary.json").is_file():
        print(f"building the corpus of this machine's code into {out} ...", flush=True)
        cmd = [sys.executable, "-m", "dsc.build_corpus", "--out", str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def held_out_files() -> dict[str, list[str]]:
    """Real files of ../shared/repos by language (the corpus is this machine's code only)."""
    by_language: dict[str, list[str]] = {}
    for path in sorted(SHARED_REPOS.rglob("*")):
        lang = LANGUAGES.get(path.suffix)
        if lang and path.is_file() and "@old" not in str(path.relative_to(SHARED_REPOS)):
            try:
                by_language.setdefault(lang, []).append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                continue
    return by_language


def corpus_held_out(corpus: Path) -> list[str]:
    """Texts of the corpus documents outside the tokenizers' sample (the held-out split)."""
    from dsc.token_shards import is_validation

    texts = []
    for path in corpus_files(corpus):
        frame = pl.read_parquet(path, columns=["id", "text"])
        mask = is_validation(frame["id"].to_list(), seed=0, fraction=0.01)
        texts += frame.filter(pl.Series(mask))["text"].to_list()
    return texts


def bytes_per_token(tokenizer: Tokenizer, texts: list[str]) -> float:
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = sum(len(e.ids) for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False))
    return n_bytes / n_tokens


def bench_tokenizers(corpus: Path, sample_mb: int, work: Path) -> Path:
    files = corpus_files(corpus)
    sample = list(sample_texts(files, int(sample_mb * 1e6), seed=0, valid_fraction=0.01))
    mb = sum(len(t.encode()) for t in sample) / 1e6
    print(f"== 1. tokenizers trained on the same {mb:.1f} MB sample, {VOCAB:,} tokens, one core")
    start = time.perf_counter()
    ours = train_tokenizer(sample, VOCAB)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    stock = ByteLevelBPETokenizer()
    stock.train_from_iterator(sample, vocab_size=VOCAB, min_frequency=2, show_progress=False)
    stock_s = time.perf_counter() - start
    print(f"training: dsc {ours_s:.1f} s, stock ByteLevelBPETokenizer {stock_s:.1f} s")
    stock = Tokenizer.from_str(stock.to_str())  # the same encoder API as ours
    save_tokenizer(ours, work / "tokenizer")
    ours = load_tokenizer(work / "tokenizer")
    held = held_out_files()
    held["corpus held-out split"] = corpus_held_out(corpus)
    print(f"{'held-out':<24}{'files':>7}{'MB':>8}{'dsc':>8}{'stock':>8}{'gain':>9}")
    gains = []
    for lang, texts in sorted(held.items()):
        a, b = bytes_per_token(ours, texts), bytes_per_token(stock, texts)
        gains.append(a / b - 1)
        size = sum(len(t.encode()) for t in texts) / 1e6
        print(f"{lang:<24}{len(texts):>7}{size:>8.2f}{a:>8.3f}{b:>8.3f}{100 * gains[-1]:>+8.1f}%")
    mean = 100 * sum(gains) / len(gains)
    print(f"mean gain {mean:+.1f} % (target >= +3 %), worst {100 * min(gains):+.1f} % (>= -1 %)")
    return work / "tokenizer"


def corpus_subset(corpus: Path, mb: int, out: Path, parts: int = 8) -> tuple[Path, float]:
    """About ``mb`` MB of corpus samples, as ``parts`` shards of about equal text bytes (as
    ``build_corpus``'s shards are), so that no worker waits on one large shard."""
    frames, total = [], 0.0
    for path in corpus_files(corpus):
        frame = pl.read_parquet(path)
        sizes = frame["text"].str.len_bytes().cum_sum() / 1e6
        frames.append(frame.filter(sizes + total <= mb))
        total += float(frames[-1]["text"].str.len_bytes().sum()) / 1e6
        if total >= mb * 0.95:
            break
    rows = pl.concat(frames)
    part = (rows["text"].str.len_bytes().cum_sum() * parts // int(total * 1e6 + 1)).alias("part")
    out.mkdir(parents=True)
    for (i,), chunk in rows.with_columns(part).group_by("part", maintain_order=True):
        chunk.drop("part").write_parquet(out / f"part-{i}.parquet")
    return out, total


def datatrove_tokenize(tokenizer_dir: Path, texts: list[str], out: Path) -> None:
    from datatrove.data import Document
    from datatrove.pipeline.tokens import DocumentTokenizer

    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    shutil.rmtree(out, ignore_errors=True)
    step = DocumentTokenizer(
        output_folder=str(out),
        tokenizer_name_or_path=str(tokenizer_dir / "tokenizer.json"),
        eos_token=EOS,
        shuffle_documents=False,
    )
    step.run(iter(docs), rank=0, world_size=1)


def bench_tokenize(corpus: Path, tokenizer_dir: Path, mb: int, repeat: int, work: Path) -> None:
    subset, total = corpus_subset(corpus, mb, work / "subset")
    files = corpus_files(subset)
    texts = [t for f in files for t in pl.read_parquet(f, columns=["text"])["text"].to_list()]
    print(f"== 2. tokenising {total:.1f} MB of corpus samples ({len(files)} shards)")

    def ours() -> None:
        out = work / "ours"
        shutil.rmtree(out, ignore_errors=True)
        for f in files:
            tokenize_shard(TokenizeTask(f, out, tokenizer_dir, 0.01, 0))

    ours_s, theirs_s = best_of(
        repeat, ours, lambda: datatrove_tokenize(tokenizer_dir, texts, work / "dt")
    )
    print(f"dsc tokenize_shard        {total / ours_s:7.2f} MB/s (one core)")
    print(f"datatrove DocumentTokenizer {total / theirs_s:5.2f} MB/s (one core)")
    print(f"dsc is {theirs_s / ours_s:.2f}x datatrove per core (target >= 1.5x)")

    def command(workers: int) -> None:
        out = work / f"cli{workers}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "dsc.tokenize_corpus",
            "--corpus",
            str(subset),
            "--tokenizer",
            str(tokenizer_dir),
            "--out",
            str(out),
            "--workers",
            str(workers),
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    one, two = best_of(repeat, lambda: command(1), lambda: command(2))
    print(f"tokenize_corpus --workers 1: {total / one:6.2f} MB/s, --workers 2: {total / two:6.2f}")
    print(f"2 workers are {one / two:.2f}x 1 worker (target >= 1.7x)")
    return work / "cli1"


def bench_loader(tokens_dir: Path, repeat: int) -> None:
    import torch

    from dsc_trainer.loader import LoaderConfig, PackedLoader

    torch.set_num_threads(1)
    print("== 3. loader, one core, FIM 0.5 (PSM)")
    steps = 50
    for seq_len, batch in ((4096, 8), (16384, 2)):
        cfg = LoaderConfig(seq_len=seq_len, micro_batch_size=batch, seed=0, fim_rate=0.5)
        loader = PackedLoader(tokens_dir, "train", cfg)
        next(iter(loader))  # the epoch index is built once per run, not per batch

        def run(loader: PackedLoader = loader, steps: int = steps) -> None:
            for _ in itertools.islice(iter(loader), steps):
                pass

        (seconds,) = best_of(repeat, run)
        rate = steps * batch * seq_len / seconds
        print(f"seq {seq_len:>5}: {rate / 1e6:7.1f} M tokens/s (target >= 1 M)")


def simd_flags() -> str:
    """The CPU's vector extensions (the tokenizers' regex and BPE code is the same for all)."""
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()
    return " ".join(f for f in ("sse4_2", "avx2", "avx512f", "avx512bw") if f in flags) or "none"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows while it runs
    print(f"CPU SIMD: {simd_flags()}")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, help="a build_corpus output directory")
    parser.add_argument("--sample-mb", type=int, default=40, help="tokenizer training sample")
    parser.add_argument("--tokenize-mb", type=int, default=20, help="text tokenised in part 2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus or build_corpus(ROOT / "out" / "bench_tokens" / "corpus")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tokenizer_dir = bench_tokenizers(corpus, args.sample_mb, work)
        tokens_dir = bench_tokenize(corpus, tokenizer_dir, args.tokenize_mb, args.repeat, work)
        bench_loader(tokens_dir, args.repeat)


if __name__ == "__main__":
    main()
