"""``python -m dsc.tokenize_corpus``: a built corpus -> token shards (DeepSeek-Coder §3.2).

Each corpus shard becomes a token shard per split (:mod:`dsc.token_shards`), in this process,
in ``--workers`` processes, or as Ray tasks (``--ray``), with the same bytes out whatever runs
it. A killed run resumes: finished shards have a completion marker keyed on their input file,
the tokenizer and the split settings. Last comes ``manifest.json``: token counts per split,
shard and language, the tokenizer's and corpus' hashes, the special-token ids, and the copy of
the tokenizer the shards were made with (``tokenizer/``). ``token_bytes.npy`` holds the UTF-8
bytes of each token id, what bits per byte divides by.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dsc.atomic import write_json, write_with
from dsc.executor import make_executor
from dsc.indexed_dataset import token_dtype
from dsc.special_tokens import (
    ASSISTANT,
    BOS,
    EOS,
    EOT,
    FIM_BEGIN,
    FIM_END,
    FIM_HOLE,
    PAD,
    USER,
)
from dsc.token_shards import TokenizeTask, finished, shard_stats_summary, tokenize_shard
from dsc.tokenizer import TOKENIZER_FILE, load_tokenizer, token_bytes, tokenizer_hash

MANIFEST_FORMAT = "dsc-token-shards/1"
SPECIAL_IDS = {
    "bos_id": BOS,
    "eos_id": EOS,
    "fim_hole_id": FIM_HOLE,
    "fim_begin_id": FIM_BEGIN,
    "fim_end_id": FIM_END,
    "pad_id": PAD,
    "user_id": USER,
    "assistant_id": ASSISTANT,
    "eot_id": EOT,
}


def corpus_files(corpus: Path) -> list[Path]:
    """The corpus' Parquet shards: ``build_corpus``'s ``OUT/dedup/data``, or a folder of them."""
    folder = corpus / "dedup" / "data" if (corpus / "dedup" / "data").is_dir() else corpus
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise SystemExit(f"--corpus {corpus}: no Parquet shards in {folder}")
    return files


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dsc.tokenize_corpus", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="build_corpus output dir")
    parser.add_argument("--tokenizer", type=Path, required=True, help="train_tokenizer output")
    parser.add_argument("--out", type=Path, required=True, help="token shard directory")
    parser.add_argument("--valid-fraction", type=float, default=0.01, help="held-out share")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    parser.add_argument("--ray", metavar="ADDRESS", help="run shards on a Ray cluster")
    args = parser.parse_args(argv)
    if not 0.0 <= args.valid_fraction < 1.0:
        parser.error(f"--valid-fraction must be in [0, 1), got {args.valid_fraction}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"tokenize_corpus: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    tokenizer_dir = out / "tokenizer"
    _install_tokenizer(args.tokenizer, tokenizer_dir)
    tasks = [
        TokenizeTask(source, out, tokenizer_dir, args.valid_fraction, args.seed)
        for source in corpus_files(args.corpus)
    ]
    _refuse_stale_markers(out, tasks)
    todo = [t for t in tasks if finished(t) is None]
    print(f"{len(tasks)} corpus shards, {len(tasks) - len(todo)} already tokenised", flush=True)
    one_thread = (("RAYON_NUM_THREADS", "1"), ("RAYON_RS_NUM_THREADS", "1"))
    make_executor(args.ray, args.workers, env=one_thread).map(tokenize_shard, todo)
    stats = [s for t in tasks if (s := finished(t)) is not None]
    manifest = _manifest(tasks, stats, tokenizer_dir, args)
    write_json(manifest, out / "manifest.json")
    _print_summary(manifest, out)
    return 0


def _install_tokenizer(source: Path, target: Path) -> None:
    """Copy the tokenizer next to the shards, so they never outlive the vocabulary they use."""
    if not (source / TOKENIZER_FILE).is_file():
        raise SystemExit(f"--tokenizer {source}: no {TOKENIZER_FILE} (run dsc.train_tokenizer)")
    if (target / TOKENIZER_FILE).is_file():
        if tokenizer_hash(target) != tokenizer_hash(source):
            raise SystemExit(f"{target}: shards of another tokenizer; use a new --out directory")
        return
    for path in sorted(source.glob("*.json")):
        write_with(lambda tmp, path=path: shutil.copyfile(path, tmp), target / path.name)


def _refuse_stale_markers(out: Path, tasks: Sequence[TokenizeTask]) -> None:
    """Shards left by an earlier plan (a corpus file since removed) must not linger."""
    planned = {t.marker.name for t in tasks}
    stale = sorted(p.name for p in (out / "_done").glob("*.json") if p.name not in planned)
    if stale:
        raise SystemExit(
            f"{out}: holds shards {stale} that are not in this corpus; use a new --out directory"
        )


def _manifest(
    tasks: Sequence[TokenizeTask],
    stats: list[dict[str, Any]],
    tokenizer_dir: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    tokenizer = load_tokenizer(tokenizer_dir)
    sizes = token_bytes(tokenizer)
    write_with(lambda tmp: _save_array(tmp, sizes), args.out / "token_bytes.npy")
    corpus = hashlib.sha256()
    for s in stats:
        corpus.update(f"{s['shard']}:{s['key']['source_sha256']}\n".encode())
    return {
        "format": MANIFEST_FORMAT,
        "tokenizer_dir": "tokenizer",
        "tokenizer_sha256": tokenizer_hash(tokenizer_dir),
        "corpus": str(args.corpus),
        "corpus_sha256": corpus.hexdigest(),
        "vocab_size": len(sizes),
        "dtype": np.dtype(token_dtype(len(sizes))).name,
        **{key: tokenizer.token_to_id(token) for key, token in SPECIAL_IDS.items()},
        "valid_fraction": args.valid_fraction,
        "seed": args.seed,
        "failed_documents": sum(s["failed"] for s in stats),
        "splits": shard_stats_summary(stats),
    }


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file object: np.save would append ".npy" to the temp name
        np.save(fh, array)


def _print_summary(manifest: dict[str, Any], out: Path) -> None:
    for split, s in manifest["splits"].items():
        print(
            f"{split}: {s['documents']:,} documents, {s['tokens']:,} tokens, {s['bytes']:,} bytes"
        )
    if manifest["failed_documents"]:
        print(f"failed: {manifest['failed_documents']:,} documents (see {out / 'failed'})")
    print(f"token shards written to {out} (manifest: {out / 'manifest.json'})")


if __name__ == "__main__":
    sys.exit(main())
