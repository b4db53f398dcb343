"""End-to-end benchmark of ``python -m dsc.build_corpus`` on the machine's real code, and of its
dedup against datatrove's MinHash pipeline on the same samples (not run in CI).

1. **The main job.** The input is every repository of the machine's code
   (:func:`dsc.sources.machine_repositories`: the standard library, site-packages and cargo's
   crate sources, over 1 GB), laid out as one directory of repositories (symbolic links). The
   whole command runs with ``--workers 1`` and ``--workers 2``; each prints wall time, MB/s of
   input bytes read, the peak RSS of its largest process (``ru_maxrss`` as ``wait4`` reports it
   for the process tree) and the time of each phase from its plain progress lines. Target:
   2 workers >= 1.7x one. The outputs of both runs must be byte-identical; the bench checks it.
2. **Dedup against datatrove.** The corpus samples of run 1, plus planted near-duplicates
   (copies of every k-th sample with 1-5 % of their lines edited; samples of at most 1 M
   characters, see :func:`planted_input`; ``--dedup-mb`` of them), as Parquet shards of
   ``id``/``text``. ``dsc.dedup.dedup_shards`` and datatrove's own four stages
   (``MinhashDedupSignature``, ``Buckets``, ``Cluster``, ``Filter`` with its
   ``LocalPipelineExecutor``, one task per shard, reading the same Parquet files) run on them
   with the same shingles (5 words), the same LSH layout (our optimal bands x rows for 0.85,
   given to datatrove as ``num_buckets`` x ``hashes_per_bucket``), each in a fresh process on
   one core (``RAYON_NUM_THREADS=1``, ``POLARS_MAX_THREADS=1``, one datatrove worker). Each
   prints wall time, peak RSS and the recall of the planted pairs (a pair is caught when one of
   its two documents is removed): of all of them, and of those whose true Jaccard similarity
   (white-space 5-word shingles) reaches the threshold both are configured for, the pairs
   either is meant to find (dsc verifies candidates against the threshold; datatrove removes
   every LSH candidate, so it also removes pairs below it). Target: dsc >= 10x faster, recall
   at least as high.

    python benchmarks/bench_build_corpus.py [--dir DIR] [--plant-every 10] [--dedup-mb 400]
                                            [--skip-build]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from dsc import _dsc
from dsc.atomic import write_parquet
from dsc.monorepo import Measured, run_measured
from dsc.sources import machine_repositories

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))
from bench_dedup import edited  # noqa: E402  (one definition of a fork's edits)

ONE_CORE = {"RAYON_NUM_THREADS": "1", "POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1"}
SPACY_MAX_CHARS = 1_000_000  # spaCy's default nlp.max_length
PHASE = re.compile(r"^(phase \d+) \(([^)]*)\): .* ([\d.]+) s elapsed")


def machine_input(root: Path) -> Path:
    """The machine's repositories as one directory of repositories (symbolic links)."""
    root.mkdir(parents=True)
    for repo in machine_repositories():
        link = root / repo.name.replace("/", "__")
        if repo.flat:  # loose modules: a directory of links to the files themselves
            link.mkdir()
            for file in sorted(repo.root.iterdir()):
                if file.is_file():
                    (link / file.name).symlink_to(file)
        else:
            link.symlink_to(repo.root, target_is_directory=True)
    return root


def build(input_dir: Path, out: Path, workers: int) -> tuple[Measured, dict[str, float]]:
    """One whole ``build_corpus`` command; its phases' times read from its progress log."""
    log = out.with_suffix(".log")
    command = [sys.executable, "-m", "dsc.build_corpus", "--input", str(input_dir)]
    command += ["--out", str(out), "--workers", str(workers)]
    # exec: the measured process is build_corpus itself, its stderr (progress) goes to the log.
    shell = ["sh", "-c", f'exec "$0" "$@" 2>"{log}"', *command]
    measured = run_measured(shell)
    if measured.returncode != 0:
        raise SystemExit(f"build_corpus --workers {workers} failed; see {log}")
    phases: dict[str, float] = {}
    for line in log.read_text().splitlines():
        if match := PHASE.match(line):
            phases[f"{match[1]} ({match[2]})"] = float(match[3])
    return measured, phases


def same_outputs(a: Path, b: Path) -> bool:
    """Every output file of ``a`` is in ``b`` with the same bytes (work dirs and logs aside)."""
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and "_work" not in p.parts)
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def bench_build(input_dir: Path, work: Path) -> Path:
    print("== 1. python -m dsc.build_corpus on the machine's code")
    outs = []
    rates = []
    for workers in (1, 2):
        out = work / f"corpus-w{workers}"
        measured, phases = build(input_dir, out, workers)
        summary = json.loads((out / "summary.json").read_text())
        mb = summary["bytes_in"] / 1e6
        rates.append(mb / measured.seconds)
        print(
            f"--workers {workers}: {measured.seconds:7.1f} s, {mb:,.0f} MB in "
            f"({summary['files_in']:,} files, {summary['repos']} repositories), "
            f"{rates[-1]:6.1f} MB/s, peak RSS {measured.peak_rss_bytes / 2**20:,.0f} MiB"
        )
        for phase, seconds in phases.items():
            print(f"    {phase}: {seconds:.0f} s")
        outs.append(out)
    print(f"2 workers: {rates[1] / rates[0]:.2f}x one (target >= 1.7x)")
    print(f"outputs byte-identical for 1 and 2 workers: {same_outputs(outs[0], outs[1])}")
    return outs[0]


def planted_input(corpus: Path, out: Path, every: int, max_mb: int) -> list[tuple[str, str, float]]:
    """The corpus samples as id/text shards, each k-th one followed by an edited copy, up to
    ``max_mb`` of text. Samples over spaCy's 1,000,000-character limit are left out: datatrove
    splits words with spaCy, and on the multi-MB samples of large repositories it was killed
    for memory (a 64 MB shard of them, on this 24 GiB machine).

    Returns the planted (original, copy) id pairs with their true Jaccard similarity."""
    out.mkdir(parents=True)
    rng = random.Random(0)
    pairs = []
    budget = max_mb * 10**6
    for shard in sorted((corpus / "samples").glob("*.parquet")):
        samples = pl.read_parquet(shard, columns=["id", "text"]).filter(
            pl.col("text").str.len_chars() <= SPACY_MAX_CHARS
        )
        rows = []
        for n, (doc_id, text) in enumerate(samples.iter_rows()):
            if budget <= 0:
                break
            budget -= len(text)
            rows.append((doc_id, text))
            if n % every == 0 and text.count("\n") >= 20:
                copy_id = f"{doc_id}-copy"
                copy = edited(text, rng.choice([0.01, 0.02, 0.05]), rng)
                rows.append((copy_id, copy))
                pairs.append((doc_id, copy_id, jaccard(text, copy)))
        if rows:
            frame = pl.DataFrame(rows, schema={"id": pl.String, "text": pl.String}, orient="row")
            write_parquet(frame, out / shard.name)
    return pairs


def shingles(text: str, n: int = 5) -> set[str]:
    """Lower-cased 5-word shingles split on white space: a reference neither contestant's own
    word splitter is (dsc's or datatrove's spaCy), so it favours neither."""
    words = text.lower().split()
    return {" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / max(len(sa | sb), 1)


def dsc_dedup(in_dir: str, out_dir: str) -> list[str]:
    """Runs in the child: dsc's four stages; returns the removed ids."""
    from dsc.dedup import DedupConfig, dedup_shards

    cfg = DedupConfig()
    dedup_shards(Path(in_dir), Path(out_dir), cfg)
    removed = pl.read_parquet(Path(out_dir) / "data").filter(~pl.col("keep"))
    return removed["id"].to_list()


def datatrove_dedup(in_dir: str, out_dir: str, bands: str, rows: str) -> list[str]:
    """Runs in the child: datatrove's four MinHash stages, one worker; returns the removed ids."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    config = MinhashConfig(n_grams=5, num_buckets=int(bands), hashes_per_bucket=int(rows))
    tasks = len(list(Path(in_dir).glob("*.parquet")))
    out = Path(out_dir)

    def reader() -> ParquetReader:
        return ParquetReader(in_dir, text_key="text", id_key="id")

    stages = [
        ([reader(), MinhashDedupSignature(str(out / "sigs"), config=config)], tasks),
        ([MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=config)], int(bands)),
        ([MinhashDedupCluster(str(out / "buckets"), str(out / "remove_ids"), config=config)], 1),
        (
            [
                reader(),
                MinhashDedupFilter(
                    str(out / "remove_ids"), exclusion_writer=ParquetWriter(str(out / "removed"))
                ),
                ParquetWriter(str(out / "kept")),
            ],
            tasks,
        ),
    ]
    for n, (pipeline, n_tasks) in enumerate(stages):
        LocalPipelineExecutor(
            pipeline, tasks=n_tasks, workers=1, logging_dir=str(out / f"logs{n}")
        ).run()
    removed = sorted((out / "removed").glob("*.parquet"))
    return pl.read_parquet(removed, columns=["id"])["id"].to_list() if removed else []


def child(function: str, *args: str) -> tuple[float, int, list[str]]:
    """``function`` of this file in a fresh one-core process: (seconds, peak RSS, removed ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        ids = Path(tmp, "removed.json")
        code = (
            f"import json, sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import bench_build_corpus"
            f" as b; json.dump(b.{function}(*sys.argv[2:]), open(sys.argv[1], 'w'))"
        )
        env = {**os.environ, **ONE_CORE}
        measured = run_measured([sys.executable, "-c", code, str(ids), *args], env=env)
        if measured.returncode != 0:
            raise SystemExit(f"{function} failed ({measured.returncode})")
        return measured.seconds, measured.peak_rss_bytes, json.loads(ids.read_text())


def recall(pairs: list[tuple[str, str, float]], removed: list[str], at_least: float = 0.0) -> float:
    """The share of the planted pairs of similarity ``at_least`` with a document removed."""
    gone = set(removed)
    wanted = [(a, b) for a, b, similarity in pairs if similarity >= at_least]
    return sum(a in gone or b in gone for a, b in wanted) / max(len(wanted), 1)


def bench_dedup(corpus: Path, work: Path, every: int, max_mb: int) -> None:
    from dsc.dedup import DedupConfig

    shards = work / "dedup-input"
    pairs = planted_input(corpus, shards, every, max_mb)
    mb = sum(len(t) for s in shards.glob("*.parquet") for t in pl.read_parquet(s)["text"]) / 1e6
    cfg = DedupConfig()
    bands, rows = cfg.layout()
    similar = sum(similarity >= cfg.threshold for *_, similarity in pairs)
    print(
        f"== 2. dedup of {mb:,.0f} MB of samples with {len(pairs)} planted near-duplicates "
        f"({similar} of Jaccard >= {cfg.threshold}), one core, 5-word shingles, {bands} bands x "
        f"{rows} rows"
    )
    print(f"dsc kernels: {_dsc.minhash_kernels()}")
    ours_s, ours_rss, ours_removed = child("dsc_dedup", str(shards), str(work / "dsc-out"))
    theirs_s, theirs_rss, theirs_removed = child(
        "datatrove_dedup", str(shards), str(work / "dt-out"), str(bands), str(rows)
    )
    for name, seconds, rss, removed in (
        ("dsc dedup_shards", ours_s, ours_rss, ours_removed),
        ("datatrove Minhash*", theirs_s, theirs_rss, theirs_removed),
    ):
        print(
            f"{name:20s} {seconds:7.1f} s  peak RSS {rss / 2**20:6,.0f} MiB  removed "
            f"{len(removed):5d}  recall: planted {recall(pairs, removed):.3f}, of Jaccard >= "
            f"{cfg.threshold} {recall(pairs, removed, cfg.threshold):.3f}"
        )
    print(f"dsc is {theirs_s / ours_s:.1f}x datatrove end to end (target >= 10x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--plant-every", type=int, default=10, help="copy every k-th sample")
    parser.add_argument("--dedup-mb", type=int, default=400, help="samples given to dedup")
    parser.add_argument(
        "--skip-build", action="store_true", help="reuse DIR/corpus-w1 from an earlier run"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.dir or Path(tmp)
        started = time.perf_counter()
        if args.skip_build:
            corpus = work / "corpus-w1"
        else:
            corpus = bench_build(machine_input(work / "input"), work)
        bench_dedup(corpus, work, args.plant_every, args.dedup_mb)
        print(f"(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
