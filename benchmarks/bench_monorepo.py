"""Benchmark of a repository larger than a shard (a monorepo): peak memory and wall time of
``python -m dsc.build_corpus --quiet`` at the default shard size.

The monorepo is made of real code (:mod:`dsc.monorepo`: copies of the standard library's
Python files, each copy's identifiers renamed). The anchor, measured in the same run, is the
same files as one repository per copy (each smaller than a shard): the same filtering,
screening, ordering and dedup work, in shards the pipeline never had to cut. Peak RSS is
``ru_maxrss`` of the build process alone; wall time is that of the whole command.

Run on demand (not in CI): ``python benchmarks/bench_monorepo.py --gb 1 [--dir DIR]``; the
generated input and outputs go to DIR (default a temporary directory, removed at the end).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from dsc import _dsc
from dsc.monorepo import Measured, run_measured, write_monorepo


def build(input_dir: Path, out: Path) -> Measured:
    command = [sys.executable, "-m", "dsc.build_corpus", "--input", str(input_dir)]
    measured = run_measured([*command, "--out", str(out), "--quiet"])
    if measured.returncode != 0:
        raise SystemExit(f"build_corpus on {input_dir} failed ({measured.returncode})")
    return measured


def split_copies(monorepo: Path, root: Path) -> Path:
    """The monorepo's copies as repositories of their own (symbolic links to its packages)."""
    root.mkdir(parents=True)
    for package in sorted(monorepo.iterdir()):
        (root / package.name).symlink_to(package, target_is_directory=True)
    return root


def report(name: str, measured: Measured, n_bytes: int) -> None:
    print(
        f"{name:<28} {measured.seconds:8.1f} s  {n_bytes / 1e6 / measured.seconds:6.1f} MB/s  "
        f"peak RSS {measured.peak_rss_bytes / 2**20:8,.0f} MiB  "
        f"({measured.peak_rss_bytes / n_bytes:.2f} x the input)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0, help="size of the monorepo (GB)")
    parser.add_argument("--dir", type=Path, help="work directory (kept)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_monorepo_"))
    try:
        monorepo = work / "input" / "mono"
        n_bytes = write_monorepo(monorepo, int(args.gb * 1e9))
        print(f"monorepo: {n_bytes / 1e9:.2f} GB in {len(list(monorepo.iterdir()))} packages")
        print(f"kernels: {_dsc.minhash_kernels()}")
        # Both read the same files: read them once first, so neither gets a cold page cache.
        for path in monorepo.rglob("*"):
            if path.is_file():
                path.read_bytes()
        anchor = build(split_copies(monorepo, work / "split"), work / "out_split")
        mono = build(work / "input", work / "out_mono")
        report("anchor: one repo per copy", anchor, n_bytes)
        report("monorepo", mono, n_bytes)
        print(f"peak RSS monorepo / anchor: {mono.peak_rss_bytes / anchor.peak_rss_bytes:.2f}")
        print(f"wall time monorepo / anchor: {mono.seconds / anchor.seconds:.2f}")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
