"""python -m dsc.tokenize_corpus: lossless documents, Megatron's layout, resume, workers."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dsc import tokenize_corpus
from dsc.indexed_dataset import IndexedDataset
from dsc.special_tokens import BOS, EOS
from dsc.tokenizer import load_tokenizer


def run(corpus: Path, tokenizer: Path, out: Path, *extra: str) -> dict:
    args = ["--corpus", str(corpus), "--tokenizer", str(tokenizer), "--out", str(out)]
    assert tokenize_corpus.main([*args, "--valid-fraction", "0.1", *extra]) == 0
    return json.loads((out / "manifest.json").read_text())


def corpus_rows(corpus_dir: Path) -> dict[str, dict]:
    files = tokenize_corpus.corpus_files(corpus_dir)
    return {r["id"]: r for f in files for r in pl.read_parquet(f).to_dicts()}


def documents(tokens_dir: Path, split: str):
    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    for shard in manifest["splits"][split]["shards"]:
        prefix = tokens_dir / split / shard
        docs = pl.read_parquet(prefix.with_suffix(".docs.parquet")).to_dicts()
        data = IndexedDataset(prefix)
        assert len(data) == len(docs)
        for i, row in enumerate(docs):
            yield row, np.asarray(data[i])


def test_every_document_decodes_to_its_corpus_text_between_bos_and_eos(token_corpus) -> None:
    tokenizer = load_tokenizer(token_corpus.tokens_dir / "tokenizer")
    bos, eos = tokenizer.token_to_id(BOS), tokenizer.token_to_id(EOS)
    rows = corpus_rows(token_corpus.corpus_dir)
    seen = set()
    for split in ("train", "valid"):
        for row, ids in documents(token_corpus.tokens_dir, split):
            text = rows[row["id"]]["text"]
            assert ids[0] == bos and ids[-1] == eos and row["n_tokens"] == len(ids)
            assert tokenizer.decode(ids[1:-1].tolist(), skip_special_tokens=False) == text
            assert row["n_bytes"] == len(text.encode())
            seen.add(row["id"])
    assert seen == set(rows)


def test_file_starts_point_at_the_token_holding_each_files_first_byte(token_corpus) -> None:
    tokenizer = load_tokenizer(token_corpus.tokens_dir / "tokenizer")
    rows = corpus_rows(token_corpus.corpus_dir)
    checked = 0
    for row, ids in documents(token_corpus.tokens_dir, "train"):
        offsets = rows[row["id"]]["offsets"]
        assert row["files"] == rows[row["id"]]["files"]
        for start, offset in zip(row["file_starts"], offsets[:-1], strict=True):
            before = tokenizer.decode(ids[1:start].tolist(), skip_special_tokens=False)
            through = tokenizer.decode(ids[1 : start + 1].tolist(), skip_special_tokens=False)
            assert len(before.encode()) <= offset < len(through.encode())
            checked += 1
    assert checked > 20


def test_manifest_counts_match_the_shards(token_corpus) -> None:
    manifest = json.loads((token_corpus.tokens_dir / "manifest.json").read_text())
    assert manifest["vocab_size"] == len(np.load(token_corpus.tokens_dir / "token_bytes.npy"))
    assert manifest["dtype"] == "uint16" and manifest["failed_documents"] == 0
    for split in ("train", "valid"):
        docs = list(documents(token_corpus.tokens_dir, split))
        summary = manifest["splits"][split]
        assert summary["documents"] == len(docs)
        assert summary["tokens"] == sum(len(ids) for _, ids in docs)
        assert sum(summary["tokens_by_language"].values()) == summary["tokens"] - 2 * len(docs)
    assert manifest["splits"]["valid"]["documents"] > 0


def test_megatron_core_reads_our_shards(token_corpus) -> None:
    with warnings.catch_warnings():  # it warns that Transformer Engine / Apex are absent
        warnings.simplefilter("ignore")
        from megatron.core.datasets.indexed_dataset import IndexedDataset as MegatronDataset
    prefix = token_corpus.tokens_dir / "train" / "shard-00000"
    theirs, ours = MegatronDataset(str(prefix)), IndexedDataset(prefix)
    assert len(theirs) == len(ours)
    for i in range(len(ours)):
        assert np.array_equal(theirs[i], ours[i])


def split_corpus(corpus_dir: Path, out: Path, parts: int) -> Path:
    """The same corpus rows as ``parts`` Parquet shards."""
    frame = pl.concat([pl.read_parquet(f) for f in tokenize_corpus.corpus_files(corpus_dir)])
    out.mkdir()
    for i, chunk in enumerate(frame.iter_slices(-(-frame.height // parts))):
        chunk.write_parquet(out / f"part-{i}.parquet")
    return out


def tree_bytes(root: Path) -> dict[str, bytes]:
    skip = {"manifest.json"}  # names the corpus path, which differs between the runs compared
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def test_two_workers_write_the_same_bytes_as_one(token_corpus, tmp_path: Path) -> None:
    corpus = split_corpus(token_corpus.corpus_dir, tmp_path / "corpus", 3)
    one = run(corpus, token_corpus.tokenizer_dir, tmp_path / "one")
    two = run(corpus, token_corpus.tokenizer_dir, tmp_path / "two", "--workers", "2")
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    assert one == two


def test_the_held_out_split_does_not_depend_on_the_shard_layout(token_corpus, tmp_path) -> None:
    corpus = split_corpus(token_corpus.corpus_dir, tmp_path / "corpus", 3)
    run(corpus, token_corpus.tokenizer_dir, tmp_path / "out")
    valid = {row["id"] for row, _ in documents(tmp_path / "out", "valid")}
    assert valid == {row["id"] for row, _ in documents(token_corpus.tokens_dir, "valid")}


def test_a_killed_run_resumes_and_other_inputs_are_refused(token_corpus, tmp_path, capsys):
    corpus = split_corpus(token_corpus.corpus_dir, tmp_path / "corpus", 3)
    out = tmp_path / "out"
    run(corpus, token_corpus.tokenizer_dir, out)
    before = tree_bytes(out)
    (out / "_done" / "part-1.json").unlink()  # as if killed before shard 1 finished
    capsys.readouterr()
    run(corpus, token_corpus.tokenizer_dir, out)
    assert "3 corpus shards, 2 already tokenised" in capsys.readouterr().out
    assert tree_bytes(out) == before
    with pytest.raises(SystemExit, match="new --out"):
        run(corpus, token_corpus.tokenizer_dir, out, "--seed", "7")  # another split
    other_tokenizer = tmp_path / "tok"
    shutil.copytree(token_corpus.tokenizer_dir, other_tokenizer)
    spec = json.loads((other_tokenizer / "tokenizer.json").read_text())
    spec["model"]["merges"] = spec["model"]["merges"][:-1]
    (other_tokenizer / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(SystemExit, match="another tokenizer"):
        run(corpus, other_tokenizer, out)
    (corpus / "part-2.parquet").unlink()
    with pytest.raises(SystemExit, match=r"part-2.*not in this corpus"):
        run(corpus, token_corpus.tokenizer_dir, out)


def test_rows_that_cannot_be_documents_are_reported_and_counted(token_corpus, tmp_path) -> None:
    good = pl.read_parquet(tokenize_corpus.corpus_files(token_corpus.corpus_dir)[0]).head(2)
    bad = pl.DataFrame(
        {
            "id": ["null#0", "empty#0", "offsets#0"],
            "repo": ["r", "r", "r"],
            "text": [None, "", "abc"],
            "files": [["a.py"], ["a.py"], ["a.py"]],
            "langs": [["Python"]] * 3,
            "offsets": [[0, 3], [0, 0], [0, 2]],
        },
        schema=good.select("id", "repo", "text", "files", "langs", "offsets").schema,
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pl.concat([good.select(bad.columns), bad]).write_parquet(corpus / "part.parquet")
    manifest = run(corpus, token_corpus.tokenizer_dir, tmp_path / "out")
    failed = pl.read_parquet(tmp_path / "out" / "failed" / "part.parquet").to_dicts()
    assert [(f["row"], f["id"], f["reason"]) for f in failed] == [
        (2, "null#0", "text is null"),
        (3, "empty#0", "text is empty"),
        (4, "offsets#0", "offsets do not span the text"),
    ]
    assert manifest["failed_documents"] == 3
    kept = manifest["splits"]["train"]["documents"] + manifest["splits"]["valid"]["documents"]
    assert kept == 2


def test_a_file_that_is_not_a_corpus_shard_is_named(token_corpus, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SystemExit, match=r"broken\.parquet"):
        run(corpus, token_corpus.tokenizer_dir, tmp_path / "out")
