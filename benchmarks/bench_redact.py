"""Throughput and recall of the redaction stage against detect-secrets, per core.

    python benchmarks/bench_redact.py [--mb 200] [--anchor-mb 4] [--repeats 3]

Reads at least ``--mb`` MB of the machine's code (standard library, site-packages and cargo's
crate sources, every text file) and times, on one thread, best of ``--repeats``:
  * dsc's Rust plugin (``dsc.redact``) on all of it,
  * dsc and detect-secrets (its default plugins and filters, through
    ``SecretsCollection.scan_files`` with the settings made once, one process) on the same
    ``--anchor-mb`` sample, the files written out for detect-secrets to read.
Then the recall of both on the planted set of ``dsc.redact_planted`` (keys, tokens, private
keys and passwords: detect-secrets finds no e-mails). Target (issue 17): >= 50x detect-secrets
with a recall at least as high.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"  # per-core figures: must precede the polars import
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
from bench_dedup import cpu_model, cpu_simd
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from dsc.filters import decode_text
from dsc.redact import redact
from dsc.redact_planted import PlantedFile, planted_set
from dsc.sources import machine_repositories, read_repositories


def load_texts(min_mb: int) -> pl.DataFrame:
    # Up to four raw bytes a text byte: site-packages holds binaries, which decode_text drops.
    raw = read_repositories(machine_repositories(), max_bytes=int(min_mb * 4e6))
    df = (
        raw.select("path", content=decode_text("raw"))
        .filter(pl.col("content").is_not_null())
        .filter(pl.col("content").str.len_bytes().cum_sum().shift(fill_value=0) < min_mb * 1e6)
    )
    mb = df["content"].str.len_bytes().sum() / 1e6
    if mb < min_mb:
        raise SystemExit(f"only {mb:.0f} MB of text found on this machine (< {min_mb} MB)")
    return df


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def write_out(paths: Sequence[str], texts: Sequence[str], root: Path) -> list[str]:
    out = []
    for i, (path, text) in enumerate(zip(paths, texts, strict=True)):
        target = root / f"{i:06d}_{Path(path).name}"
        target.write_text(text)
        out.append(str(target))
    return out


def detect_secrets_scan(files: list[str]) -> SecretsCollection:
    secrets = SecretsCollection()
    secrets.scan_files(*files, num_processors=1)
    return secrets


def line_of(text: str, value: str) -> int:
    return text[: text.find(value)].count("\n") + 1


def recalls(planted: list[PlantedFile], root: Path) -> dict[str, tuple[int, int, int]]:
    """Per kind: (items, found by dsc, found by detect-secrets). detect-secrets finds an item
    when it reports its line (a private key: the BEGIN line just above the marker)."""
    files = write_out([f.path for f in planted], [f.text for f in planted], root)
    frame = pl.LazyFrame({"path": [f.path for f in planted], "content": [f.text for f in planted]})
    ours = redact(frame).collect()["content"]
    found = detect_secrets_scan(files)
    # detect-secrets keys its results by the path relative to the working directory.
    lines = {os.path.abspath(name): {s.line_number for s in found[name]} for name in found.files}
    out: dict[str, list[int]] = {}
    for f, name, text in zip(planted, files, ours, strict=True):
        for item in f.planted:
            if item.kind not in ("key", "password", "ip_address"):
                continue
            line = line_of(f.text, item.value)
            reported = lines.get(name, set())
            counts = out.setdefault(item.kind, [0, 0, 0])
            counts[0] += 1
            counts[1] += item.value not in text
            counts[2] += bool(reported & {line, line - 1})
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--anchor-mb", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # The redaction regexes have no kernels of ours (DSC_SIMD does not apply): the regex crate
    # picks its literal prefilters (memchr, aho-corasick) at run time, AVX2 where the CPU has it.
    print(f"CPU: {cpu_model()} ({cpu_simd()}); regex prefilters dispatch at run time")
    df = load_texts(args.mb)
    mb = df["content"].str.len_bytes().sum() / 1e6
    lf = df.lazy()
    full = best_of(args.repeats, lambda: redact(lf).collect())
    print(f"dsc redact: {mb:,.1f} MB, {len(df):,} files: {mb / full:,.1f} MB/s per core")
    sample = df.sample(fraction=1.0, shuffle=True, seed=17).filter(
        pl.col("content").str.len_bytes().cum_sum() <= args.anchor_mb * 1e6
    )
    sample_mb = sample["content"].str.len_bytes().sum() / 1e6
    with tempfile.TemporaryDirectory() as tmp, default_settings():
        files = write_out(sample["path"], sample["content"], Path(tmp))
        ours = best_of(args.repeats, lambda: redact(sample.lazy()).collect())
        theirs = best_of(args.repeats, lambda: detect_secrets_scan(files))
        print(
            f"same {sample_mb:.1f} MB sample ({len(sample):,} files): dsc "
            f"{sample_mb / ours:,.1f} MB/s, detect-secrets {sample_mb / theirs:,.2f} MB/s: "
            f"{theirs / ours:,.0f}x"
        )
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        planted = planted_set(sorted(stdlib.glob("*.py"))[:200], stdlib)
        planted_dir = Path(tmp) / "planted"
        planted_dir.mkdir()
        print("recall on the planted set (items, dsc, detect-secrets):")
        for kind, (n, a, b) in sorted(recalls(planted, planted_dir).items()):
            print(f"  {kind:<12} {n:>5}  dsc {a / n:6.3f}  detect-secrets {b / n:6.3f}")


if __name__ == "__main__":
    main()
