"""Near-dedup benchmark on real code (not run in CI).

1. Signature throughput per core (one thread) of ``dsc.dedup.minhash_signature``, 5-gram
   shingles and 256 values, against two anchors used as a careful user would, all measured in
   the same run on the same texts (every k-th file of the set), every contestant best of
   ``--repeat`` runs:

   - datasketch 2's ``MinHash.bulk`` (one ``MinHash`` whose permutations every text reuses),
     in each of its schemes: ``legacy`` (``(a*h + b) mod (2^61 - 1)`` of 32-bit hashes, the
     classic map), ``affine64`` and ``affine32``; the ratio is against the fastest.
   - a numpy-vectorised signature like datatrove's (permutation parameters drawn once).

   Ours in both schemes: ``oph`` (one hash per shingle, the default) and ``classic`` (256
   permutations per shingle) in every SIMD build this CPU runs (``DSC_SIMD``). The CPU model
   and the kernel each contestant of ours ran are printed. Targets: ``oph`` >= 50x datasketch
   and >= 10x numpy. (Our classic multipliers ``a`` are below 2^29, see ``dsc_core::minhash``;
   the anchors' cost does not depend on ``a``.)
2. End-to-end wall time and peak RSS of the four stages (local executor, all cores), overall
   and per stage, on corpora made by replicating the machine's real code with edits, at two
   sizes with the same shard and partition sizes. Target: 1 GB in under 20 s on 2 cores, and
   per-stage peaks that follow shard and partition size, not corpus size.

    python benchmarks/bench_dedup.py             # 200 MB throughput; 0.5 GB and 1 GB pipelines
    python benchmarks/bench_dedup.py --corpus-mb 300 --throughput-mb 50   # a quicker run
    python benchmarks/bench_dedup.py --no-throughput --corpus-mb 1024 --scheme classic
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import polars as pl
import xxhash

from dsc import _dsc
from dsc.atomic import write_parquet
from dsc.dedup import DedupConfig, dedup_shards, minhash_signature
from dsc.sources import machine_repositories

MERSENNE = np.uint64((1 << 61) - 1)
SUFFIXES = {".py", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".pyi", ".js", ".java", ".md"}


def real_code(max_bytes: int, max_file_bytes: int = 256 << 10) -> list[tuple[str, str]]:
    """``(id, text)`` of real source files from the machine, up to ``max_bytes``."""
    files, total = [], 0
    for repo in machine_repositories():
        for path in repo.files(max_file_bytes):
            if path.suffix not in SUFFIXES:
                continue
            try:
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            files.append((f"{repo.name}/{path.relative_to(repo.root)}", text))
            total += len(text)
            if total >= max_bytes:
                return files
    return files


def python_shingles(text: str, n: int = 5) -> list[bytes]:
    tokens = text.lower().split()
    n = min(n, len(tokens))
    return [" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)]


def numpy_signature(text: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """datatrove's way: hash shingles in Python, permute all at once with numpy broadcasting."""
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(s) for s in python_shingles(text)), np.uint64)
    if hashes.size == 0:
        return np.full(a.size, np.iinfo(np.uint64).max, dtype=np.uint64)
    return ((hashes[:, None] * a + b) % MERSENNE).min(axis=0)


DATASKETCH_SCHEMES = {
    "legacy": xxhash.xxh32_intdigest,  # 32-bit hashes, as the legacy scheme expects
    "affine64": xxhash.xxh3_64_intdigest,
    "affine32": xxhash.xxh32_intdigest,
}


def datasketch_signatures(texts: list[str], scheme: str) -> list[np.ndarray]:
    """datasketch as its docs advise for many texts: ``MinHash.bulk`` shares the permutations."""
    from datasketch import MinHash

    shingled = [python_shingles(t) for t in texts]
    hashfunc = DATASKETCH_SCHEMES[scheme]
    sketches = MinHash.bulk(shingled, num_perm=256, seed=42, hashfunc=hashfunc, scheme=scheme)
    return [m.hashvalues for m in sketches]


def best_mb_per_s(texts: list[str], run: Callable[[list[str]], object], repeat: int) -> float:
    """Best of ``repeat`` runs: the statistic every contestant gets."""
    size = sum(map(len, texts)) / 1e6
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(texts)
        times.append(time.perf_counter() - start)
    return size / min(times)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cpu_simd() -> str:
    """The SIMD extensions of this CPU that our kernels and the regex crate can dispatch to."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return ",".join(f for f in ("sse4_2", "avx2", "avx512f", "avx512bw") if f in flags)
    return "unknown"


def ours(cfg: DedupConfig, simd: str) -> Callable[[list[str]], object]:
    """Our signatures of a sample, with the SIMD build ``simd`` forced (``DSC_SIMD``)."""

    def run(sample: list[str]) -> object:
        os.environ["DSC_SIMD"] = simd
        return pl.DataFrame({"text": sample}).select(minhash_signature("text", cfg))

    return run


def throughput(args: argparse.Namespace) -> None:
    """Runs in a child process pinned to one thread, so every figure is per core."""
    texts = [t for _, t in real_code(args.throughput_mb << 20)]
    rng = np.random.default_rng(0)
    a = rng.integers(1, MERSENNE, 256, dtype=np.uint64)
    b = rng.integers(0, MERSENNE, 256, dtype=np.uint64)
    # The anchors are slow: they get every k-th file, so their sample has the corpus's mix,
    # and the ratios compare all contestants on exactly that sample.
    anchor = texts[:: max(1, args.throughput_mb // args.anchor_mb)]
    repeat = args.repeat
    simd_paths = [p for p in ("avx512", "avx2", "portable") if supported(p)]
    contestants = {"oph": ours(DedupConfig(scheme="oph"), "auto")}
    for path in simd_paths:
        contestants[f"classic/{path}"] = ours(DedupConfig(scheme="classic"), path)
    rates = {name: best_mb_per_s(anchor, run, repeat) for name, run in contestants.items()}
    numpy_rate = best_mb_per_s(anchor, lambda ts: [numpy_signature(t, a, b) for t in ts], repeat)
    datasketch = {
        scheme: best_mb_per_s(anchor, lambda ts, s=scheme: datasketch_signatures(ts, s), repeat)
        for scheme in DATASKETCH_SCHEMES
    }
    fastest = max(datasketch, key=datasketch.__getitem__)
    os.environ["DSC_SIMD"] = "auto"
    kernels = _dsc.minhash_kernels()
    print(
        json.dumps(
            {
                "cpu": cpu_model(),
                "kernels": kernels,
                "statistic": f"best of {repeat}",
                "oph_on_all_mb": round(sum(map(len, texts)) / 1e6, 1),
                "oph_on_all_mb_per_s": round(best_mb_per_s(texts, contestants["oph"], repeat), 1),
                "anchor_mb": round(sum(map(len, anchor)) / 1e6, 1),
                "mb_per_s": {name: round(rate, 1) for name, rate in rates.items()},
                "numpy_mb_per_s": round(numpy_rate, 3),
                "datasketch_bulk_mb_per_s": {s: round(r, 3) for s, r in datasketch.items()},
                "x_numpy": {name: round(rate / numpy_rate, 1) for name, rate in rates.items()},
                f"x_datasketch_{fastest}": {
                    name: round(rate / datasketch[fastest], 1) for name, rate in rates.items()
                },
            }
        )
    )


def supported(simd: str) -> bool:
    """Whether this CPU runs the SIMD build ``simd`` (the module refuses the others)."""
    os.environ["DSC_SIMD"] = simd
    try:
        _dsc.minhash_kernels()
    except ValueError:
        return False
    finally:
        os.environ["DSC_SIMD"] = "auto"
    return True


def edited(text: str, rate: float, rng: random.Random) -> str:
    """A copy with about ``rate`` of its lines changed, as a fork's small edits would."""
    lines = text.split("\n")
    for i in rng.sample(range(len(lines)), int(len(lines) * rate)):
        lines[i] = lines[i] + f"  # edited {rng.randrange(1000)}"
    return "\n".join(lines)


def replicated(files: list[tuple[str, str]], target_bytes: int) -> Iterator[tuple[str, str]]:
    """The files, then edited copies of them (some exact), until ``target_bytes`` of text."""
    rng = random.Random(0)
    total = 0
    for replica in itertools.count():
        for name, text in files:
            rate = 0.0 if replica == 0 else rng.choice([0.0, 0.01, 0.05, 0.3])
            copy = edited(text, rate, rng) if rate else text
            yield f"{replica}:{name}", copy
            total += len(copy)
            if total >= target_bytes:
                return


def write_shards(rows: Iterator[tuple[str, str]], out: Path, shard_bytes: int) -> int:
    """Rows into parquet shards of about ``shard_bytes`` of text; returns the bytes written."""
    batch: list[tuple[str, str]] = []
    size = total = 0
    for row in rows:
        batch.append(row)
        size += len(row[1])
        if size >= shard_bytes:
            write_parquet(
                pl.DataFrame(batch, schema=["id", "text"], orient="row"),
                out / f"{total:012d}.parquet",
            )
            total, batch, size = total + size, [], 0
    if batch:
        write_parquet(
            pl.DataFrame(batch, schema=["id", "text"], orient="row"), out / f"{total:012d}.parquet"
        )
    return total + size


class StagePeaks(logging.Handler):
    """Per-stage wall time and peak RSS, read when ``dedup_shards`` logs a finished stage.

    The kernel's peak-RSS counter is reset after each stage (``/proc/self/clear_refs``), so a
    stage's peak is its own, over what earlier stages left allocated."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: dict[str, dict[str, float]] = {}
        self.last = time.perf_counter()
        Path("/proc/self/clear_refs").write_text("5")

    def emit(self, record: logging.LogRecord) -> None:
        name = str(record.args[0]) if record.args else record.getMessage()
        now = time.perf_counter()
        self.stages[name] = {"wall_s": round(now - self.last, 1), "peak_rss_mb": vm_peak_mb()}
        self.last = now
        Path("/proc/self/clear_refs").write_text("5")


def vm_peak_mb() -> int:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM"))


def pipeline(args: argparse.Namespace) -> None:
    """Runs in a child process so that its peak RSS is the pipeline's alone."""
    peaks = StagePeaks()
    stage_log = logging.getLogger("dsc.dedup.api")
    stage_log.setLevel(logging.INFO)
    stage_log.addHandler(peaks)
    start = time.perf_counter()
    cfg = DedupConfig(num_partitions=args.partitions, scheme=args.scheme)
    stats = dedup_shards(args.in_dir, args.out_dir, cfg)
    wall = time.perf_counter() - start
    # Not ru_maxrss: a child started by fork + exec inherits the parent's peak in it.
    peak = max(stage["peak_rss_mb"] for stage in peaks.stages.values())
    stats.pop("shards")
    result = {"wall_s": round(wall, 1), "peak_rss_mb": peak, "stages": peaks.stages}
    print(json.dumps({**result, "stats": stats}))


def child(extra: list[str], env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, __file__, *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput-mb", type=int, default=200)
    parser.add_argument("--anchor-mb", type=int, default=4, help="text given to the anchors")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contestant (best taken)")
    parser.add_argument("--scheme", choices=["oph", "classic"], default="oph", help="pipeline")
    parser.add_argument(
        "--corpus-mb", type=int, nargs="+", default=[512, 1024], help="one pipeline run each"
    )
    parser.add_argument("--originals-mb", type=int, default=350)
    parser.add_argument("--shard-mb", type=int, default=64)
    parser.add_argument(
        "--mb-per-partition", type=int, default=128, help="band-hash partitions: corpus / this"
    )
    parser.add_argument("--partitions", type=int, default=8, help="(pipeline mode)")
    parser.add_argument("--mode", choices=["all", "throughput", "pipeline"], default="all")
    parser.add_argument("--no-throughput", action="store_true", help="only the pipeline")
    parser.add_argument("--in-dir", type=Path)
    parser.add_argument("--out-dir", type=Path)
    args = parser.parse_args()
    if args.mode == "throughput":
        return throughput(args)
    if args.mode == "pipeline":
        return pipeline(args)

    one_core = {
        **os.environ,
        "RAYON_NUM_THREADS": "1",
        "POLARS_MAX_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    sizes = ["--throughput-mb", str(args.throughput_mb), "--anchor-mb", str(args.anchor_mb)]
    sizes += ["--repeat", str(args.repeat)]
    if not args.no_throughput:
        print("signature throughput, one core:", child(["--mode", "throughput", *sizes], one_core))
    files = real_code(args.originals_mb << 20)
    # Shards and partitions keep their size as the corpus grows: the per-stage peaks should not.
    for corpus_mb in args.corpus_mb:
        with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
            in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
            written = write_shards(replicated(files, corpus_mb << 20), in_dir, args.shard_mb << 20)
            shards = len(list(in_dir.glob("*.parquet")))
            partitions = max(1, corpus_mb // args.mb_per_partition)
            print(f"corpus: {written / 1e6:.0f} MB of text, {shards} shards, {partitions} parts")
            dirs = ["--in-dir", str(in_dir), "--out-dir", str(out_dir)]
            dirs += ["--partitions", str(partitions), "--scheme", args.scheme]
            print(f"pipeline, {os.cpu_count()} cores:", child(["--mode", "pipeline", *dirs]))


if __name__ == "__main__":
    main()
