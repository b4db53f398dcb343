"""Corpus samples -> token shards, one corpus shard at a time (``python -m dsc.tokenize_corpus``).

For each corpus Parquet file ``NAME.parquet`` (rows ``id``, ``repo``, ``text``, ``files``,
``langs``, ``offsets`` as ``build_corpus`` writes them) the task writes, per split:

* ``SPLIT/NAME.bin`` + ``SPLIT/NAME.idx``: the documents as ``[BOS] text [EOS]`` in Megatron's
  indexed-dataset layout (:mod:`dsc.indexed_dataset`), in the corpus' row order;
* ``SPLIT/NAME.docs.parquet``: one row per document: ``id``, ``repo``, ``n_tokens``, ``n_bytes``
  (UTF-8 bytes of the text), ``files``, ``langs`` and ``file_starts``, the token position
  where each file of a repository sample begins (from the corpus' byte ``offsets``);

then ``failed/NAME.parquet`` (documents that could not be tokenised, with the reason) and last
the completion marker ``_done/NAME.json``. A document goes to the ``valid`` split when a keyed
hash of its id falls under ``valid_fraction``: the split is the same whatever the shard layout,
worker count or order of the run.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from dsc.atomic import write_json, write_parquet
from dsc.indexed_dataset import token_dtype, write_indexed_dataset
from dsc.special_tokens import BOS, EOS
from dsc.tokenizer import encode_texts, load_tokenizer, token_bytes, tokenizer_hash

SPLITS = ("train", "valid")
CORPUS_COLUMNS = ("id", "repo", "text", "files", "langs", "offsets")
#: Rows tokenised per batch: large enough for the tokenizer's batch API, small in memory.
BATCH_ROWS = 2048


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keyed_unit(ids: list[str], seed: int, purpose: str) -> npt.NDArray[np.float64]:
    """A number in [0, 1) per document id: a BLAKE2 hash keyed on (seed, purpose).

    A pure function of the id, so a document's fate never depends on the shard layout, the
    worker count or the order of a run.
    """
    key = seed.to_bytes(8, "little", signed=False) + purpose.encode()
    digests = (hashlib.blake2b(i.encode(), digest_size=8, key=key[:64]).digest() for i in ids)
    return np.array([int.from_bytes(d, "little") / 2.0**64 for d in digests], dtype=np.float64)


def is_validation(ids: list[str], seed: int, fraction: float) -> npt.NDArray[np.bool_]:
    """Whether each document id belongs to the held-out split."""
    return keyed_unit(ids, seed, "valid") < fraction


@dataclass(frozen=True)
class TokenizeTask:
    """One corpus shard and everything its output depends on."""

    source: Path
    out_dir: Path
    tokenizer_dir: Path
    valid_fraction: float
    seed: int

    @property
    def name(self) -> str:
        return self.source.stem

    @property
    def marker(self) -> Path:
        return self.out_dir / "_done" / f"{self.name}.json"

    @cached_property
    def key(self) -> dict[str, Any]:
        """What a finished shard's marker must match for it to be reused (hashed once a task:
        the resume check and the marker both need it)."""
        return {
            "source": str(self.source),
            "source_sha256": file_sha256(self.source),
            "tokenizer_sha256": tokenizer_hash(self.tokenizer_dir),
            "valid_fraction": self.valid_fraction,
            "seed": self.seed,
        }


@dataclass
class Encoded:
    """The documents of one split of a shard, as they are written."""

    tokens: list[npt.NDArray[np.int64]]
    rows: list[dict[str, Any]]


def _file_starts(
    ids: npt.NDArray[np.int64], sizes: npt.NDArray[np.int32], offsets: list[int]
) -> list[int]:
    """Token position (BOS counted) of the token holding each file's first byte."""
    ends = np.cumsum(sizes[ids], dtype=np.int64)
    return [1 + int(i) for i in np.searchsorted(ends, np.asarray(offsets[:-1]), side="right")]


def _check_row(row: dict[str, Any]) -> str | None:
    """Why a corpus row cannot become a document, or None."""
    if not isinstance(row.get("id"), str):
        return "no id"
    text = row.get("text")
    if not isinstance(text, str):
        return "text is null"
    if not text:
        return "text is empty"
    offsets = row.get("offsets") or [0, len(text.encode("utf-8"))]
    if offsets[0] != 0 or offsets[-1] != len(text.encode("utf-8")) or sorted(offsets) != offsets:
        return "offsets do not span the text"
    if len(row.get("files") or []) != len(offsets) - 1:
        return "files and offsets differ in length"
    return None


def _encode_batch(tokenizer: Any, texts: list[str]) -> list[list[int] | str]:
    """Token ids per text, or the error of a text that failed (each retried alone)."""
    try:
        return list(encode_texts(tokenizer, texts))
    except Exception:  # the tokenizer's Rust errors have no common type; isolate the row
        results: list[list[int] | str] = []
        for text in texts:
            try:
                results.append(encode_texts(tokenizer, [text])[0])
            except Exception as exc:
                results.append(f"tokenizer error: {exc}")
        return results


def read_rows(source: Path) -> list[dict[str, Any]]:
    """The corpus rows of one shard, with a clear error for a file that is not a corpus."""
    try:
        frame = pl.read_parquet(source)
    except Exception as exc:
        raise ValueError(f"{source}: cannot read corpus shard: {exc}") from exc
    missing = [c for c in ("id", "text") if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: corpus shard lacks columns {missing}")
    return frame.select([c for c in CORPUS_COLUMNS if c in frame.columns]).to_dicts()


def tokenize_shard(task: TokenizeTask) -> dict[str, Any]:
    """Tokenise one corpus shard; returns the stats written to its marker."""
    tokenizer = load_tokenizer(task.tokenizer_dir)
    sizes = token_bytes(tokenizer)
    bos, eos = tokenizer.token_to_id(BOS), tokenizer.token_to_id(EOS)
    rows = read_rows(task.source)
    splits = {s: Encoded([], []) for s in SPLITS}
    failed: list[dict[str, Any]] = []
    languages: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    valid = is_validation([str(r.get("id")) for r in rows], task.seed, task.valid_fraction)
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        reasons = [_check_row(r) for r in batch]
        good = [i for i, reason in enumerate(reasons) if reason is None]
        encoded = dict(
            zip(good, _encode_batch(tokenizer, [batch[i]["text"] for i in good]), strict=True)
        )
        for i, row in enumerate(batch):
            result = encoded.get(i, reasons[i])
            if isinstance(result, str) or result is None:
                failed.append({"row": start + i, "id": row.get("id"), "reason": result})
                continue
            split = "valid" if valid[start + i] else "train"
            _add_document(
                splits[split], languages[split], row, np.asarray(result, np.int64), sizes, bos, eos
            )
    return _write_outputs(task, splits, failed, languages, len(sizes))


def _add_document(
    out: Encoded,
    languages: Counter[str],
    row: dict[str, Any],
    ids: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int32],
    bos: int,
    eos: int,
) -> None:
    n_bytes = len(row["text"].encode("utf-8"))
    offsets = row.get("offsets") or [0, n_bytes]
    files = row.get("files") or [""]
    langs = row.get("langs") or [""] * len(files)
    starts = _file_starts(ids, sizes, offsets)
    ends = [*starts[1:], 1 + len(ids)]
    for lang, a, b in zip(langs, starts, ends, strict=True):
        languages[lang or "unknown"] += b - a
    out.tokens.append(np.concatenate(([bos], ids, [eos])))
    out.rows.append(
        {
            "id": row["id"],
            "repo": row.get("repo"),
            "n_tokens": len(ids) + 2,
            "n_bytes": n_bytes,
            "files": list(files),
            "langs": list(langs),
            "file_starts": starts,
        }
    )


DOCS_SCHEMA = {
    "id": pl.String,
    "repo": pl.String,
    "n_tokens": pl.Int64,
    "n_bytes": pl.Int64,
    "files": pl.List(pl.String),
    "langs": pl.List(pl.String),
    "file_starts": pl.List(pl.Int64),
}
FAILED_SCHEMA = {"row": pl.Int64, "id": pl.String, "reason": pl.String}


def _write_outputs(
    task: TokenizeTask,
    splits: dict[str, Encoded],
    failed: list[dict[str, Any]],
    languages: dict[str, Counter[str]],
    vocab_size: int,
) -> dict[str, Any]:
    dtype = token_dtype(vocab_size)
    stats: dict[str, Any] = {"shard": task.name, "key": task.key, "failed": len(failed)}
    for split, encoded in splits.items():
        prefix = task.out_dir / split / task.name
        write_indexed_dataset(prefix, encoded.tokens, dtype)
        write_parquet(
            pl.DataFrame(encoded.rows, schema=DOCS_SCHEMA), prefix.with_suffix(".docs.parquet")
        )
        stats[split] = {
            "documents": len(encoded.tokens),
            "tokens": int(sum(len(t) for t in encoded.tokens)),
            "bytes": int(sum(r["n_bytes"] for r in encoded.rows)),
            "tokens_by_language": dict(sorted(languages[split].items())),
        }
    write_parquet(
        pl.DataFrame(failed, schema=FAILED_SCHEMA), task.out_dir / "failed" / f"{task.name}.parquet"
    )
    write_json(stats, task.marker)
    return stats


def finished(task: TokenizeTask) -> dict[str, Any] | None:
    """The stats of a shard an earlier run finished with the same inputs, if any.

    A marker for other inputs (another tokenizer, a changed corpus file, another split) stops
    the run: mixing its outputs with new ones would give shards of two vocabularies.
    """
    if not task.marker.exists():
        return None
    stats: dict[str, Any] = json.loads(task.marker.read_text())
    if stats.get("key") != task.key:
        raise SystemExit(
            f"{task.marker}: made from other inputs (tokenizer, corpus file or split); "
            "use a new --out directory"
        )
    return stats


def shard_stats_summary(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-split totals over shards, for the manifest."""
    summary: dict[str, Any] = {}
    for split in SPLITS:
        by_language: Counter[str] = Counter()
        for s in stats:
            by_language.update(s[split]["tokens_by_language"])
        summary[split] = {
            "shards": [s["shard"] for s in stats],
            "documents": sum(s[split]["documents"] for s in stats),
            "tokens": sum(s[split]["tokens"] for s in stats),
            "bytes": sum(s[split]["bytes"] for s in stats),
            "tokens_by_language": dict(sorted(by_language.items())),
            "tokens_by_shard": {s["shard"]: s[split]["tokens"] for s in stats},
        }
    return summary
