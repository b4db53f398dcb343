"""The packed FIM loader on real token shards: lossless, resumable, rank-disjoint, masked."""

from __future__ import annotations

import itertools
import json

import numpy as np
import polars as pl
import pytest
import torch

from dsc.tokenizer import load_tokenizer
from dsc_trainer import ModelConfig, Transformer
from dsc_trainer.loader import Batch, LoaderConfig, PackedLoader, PackedWindows, TokenData
from dsc_trainer.packing import IGNORE, window_tokens

SEQ = 64


def take(loader: PackedLoader, n: int) -> list[Batch]:
    return list(itertools.islice(iter(loader), n))


def same(a: list[Batch], b: list[Batch]) -> bool:
    return len(a) == len(b) and all(
        all(torch.equal(x, y) for x, y in zip(p.fields(), q.fields(), strict=True))
        for p, q in zip(a, b, strict=True)
    )


def undo_fim(doc: list[int], data: TokenData) -> list[int]:
    s = data.sentinels
    body = doc[1:-1]
    if not body or body[0] != s.fim_begin:
        return doc
    if body[1] == s.fim_hole:
        end = body.index(s.fim_end)
        return [s.bos, *body[end + 1 :], *body[2:end], s.eos]
    hole, end = body.index(s.fim_hole), body.index(s.fim_end)
    return [s.bos, *body[1:hole], *body[end + 1 :], *body[hole + 1 : end], s.eos]


def test_an_epochs_windows_decode_back_to_the_original_documents(token_corpus) -> None:
    data = TokenData(token_corpus.tokens_dir, "train")
    windows = PackedWindows(data, LoaderConfig(seq_len=SEQ, micro_batch_size=1, seed=3))
    index = windows.epoch(0)
    parts = [window_tokens(data, index, k, SEQ, data.sentinels) for k in range(index.windows)]
    stream = np.concatenate([p[0][:-1] for p in parts] + [parts[-1][0][-1:]])
    tokenizer = load_tokenizer(token_corpus.tokens_dir / "tokenizer")
    ids = pl.concat([pl.read_parquet(p.with_suffix(".docs.parquet")) for p in data.prefixes])["id"]
    corpus = pl.read_parquet(token_corpus.corpus_dir / "dedup" / "data" / "*.parquet")
    texts = dict(zip(corpus["id"], corpus["text"], strict=True))
    whole = int(np.searchsorted(index.starts, len(stream), side="right")) - 1
    assert whole >= 10 and index.fim[:whole].any() and not index.fim[:whole].all()
    for position in range(whole):  # every document that ends inside the epoch's windows
        arranged = stream[index.starts[position] : index.starts[position + 1]].tolist()
        original = np.asarray(data.read(int(index.order[position]), 0, 1 << 40)).tolist()
        assert undo_fim(arranged, data) == original
        text = tokenizer.decode(original[1:-1], skip_special_tokens=False)
        assert text == texts[ids[int(index.order[position])]]
    assert sorted(index.order.tolist()) == list(range(len(data.lengths)))


def test_labels_stop_at_document_boundaries_and_count_the_text_bytes(token_corpus) -> None:
    cfg = LoaderConfig(seq_len=SEQ, micro_batch_size=8, seed=0)
    loader = PackedLoader(token_corpus.tokens_dir, "train", cfg)
    token_bytes = np.load(token_corpus.tokens_dir / "token_bytes.npy")
    boundaries = 0
    for batch in take(loader, 40):
        tokens, labels, docs = batch.tokens.numpy(), batch.labels.numpy(), batch.doc_ids.numpy()
        inside = docs[:, 1:] == docs[:, :-1]
        assert (labels[:, :-1][inside] == tokens[:, 1:][inside]).all()
        assert (labels[:, :-1][~inside] == IGNORE).all()
        boundaries += int((~inside).sum())
        kept = labels != IGNORE
        assert (batch.label_bytes.numpy()[kept] == token_bytes[labels[kept]]).all()
        assert (batch.label_bytes.numpy()[~kept] == 0).all()
    assert boundaries > 0


@pytest.mark.parametrize("workers", [0, 2])
def test_a_restored_loader_yields_what_an_uninterrupted_one_would(token_corpus, workers) -> None:
    cfg = LoaderConfig(seq_len=SEQ, micro_batch_size=2, seed=1, num_workers=workers)
    reference = take(PackedLoader(token_corpus.tokens_dir, "train", LoaderConfig(SEQ, 2, 1)), 12)
    first = PackedLoader(token_corpus.tokens_dir, "train", cfg, grad_accum=2)
    head = take(first, 4)  # two steps
    state = json.loads(json.dumps(first.state_dict()))
    resumed = PackedLoader(token_corpus.tokens_dir, "train", cfg, grad_accum=2)
    resumed.load_state_dict(state)
    assert same(head + take(resumed, 8), reference)


def test_ranks_split_each_step_without_overlap_and_a_resume_may_change_world(token_corpus):
    cfg = LoaderConfig(seq_len=SEQ, micro_batch_size=2, seed=4)
    single = take(PackedLoader(token_corpus.tokens_dir, "train", cfg, grad_accum=4), 12)
    ranks = [
        take(
            PackedLoader(
                token_corpus.tokens_dir, "train", cfg, dp_rank=r, dp_world=2, grad_accum=2
            ),
            6,
        )
        for r in range(2)
    ]
    # step s of the world of 2: rank 0's two micro-batches, then rank 1's, = step s of world 1
    merged = [b for s in range(3) for r in range(2) for b in ranks[r][2 * s : 2 * s + 2]]
    assert same(merged, single)
    # a world of 2 checkpoints after 2 steps; a world of 1 continues the same global stream
    two = PackedLoader(token_corpus.tokens_dir, "train", cfg, dp_world=2, grad_accum=2)
    take(two, 4)
    one = PackedLoader(token_corpus.tokens_dir, "train", cfg, grad_accum=4)
    one.load_state_dict(two.state_dict())
    assert same(take(one, 4), single[8:12])


def test_one_pass_of_the_held_out_split_ends_and_covers_each_window_once(token_corpus) -> None:
    cfg = LoaderConfig(seq_len=SEQ, micro_batch_size=3, seed=0, fim_rate=0.0)
    loaders = [
        PackedLoader(token_corpus.tokens_dir, "valid", cfg, dp_rank=r, dp_world=2, epochs=1)
        for r in range(2)
    ]
    windows = loaders[0].windows.epoch(0).windows
    counts = [sum(b.tokens.shape[0] for b in loader) for loader in loaders]
    assert sum(counts) == windows and min(counts) > 0


def test_a_packed_row_gives_each_document_the_logits_it_has_alone(token_corpus) -> None:
    data = TokenData(token_corpus.tokens_dir, "train")
    config = ModelConfig(
        vocab_size=data.vocab_size,
        d_model=64,
        n_layers=2,
        n_heads=4,
        n_kv_heads=2,
        d_ff=128,
        max_seq_len=SEQ,
    )
    torch.manual_seed(0)
    model = Transformer(config).eval()
    cfg = LoaderConfig(seq_len=SEQ, micro_batch_size=4, seed=2)
    rows = itertools.islice(iter(PackedLoader(token_corpus.tokens_dir, "train", cfg)), 5000)
    batch = next(b for b in rows if len(b.doc_ids[0].unique()) > 1)  # a row holding a boundary
    with torch.no_grad():
        packed = model(batch.tokens, doc_ids=batch.doc_ids)
        row, docs = 0, batch.doc_ids[0]
        for doc in docs.unique():
            where = (docs == doc).nonzero().flatten()
            alone = model(batch.tokens[row : row + 1, where])
            torch.testing.assert_close(packed[row, where], alone[0], rtol=1e-4, atol=1e-4)


def test_bad_settings_are_refused_with_what_is_wrong(token_corpus) -> None:
    huge = LoaderConfig(seq_len=10**7, micro_batch_size=1, seed=0)
    with pytest.raises(ValueError, match="fewer than seq_len"):
        next(iter(PackedLoader(token_corpus.tokens_dir, "valid", huge)))
    loader = PackedLoader(token_corpus.tokens_dir, "train", LoaderConfig(SEQ, 1, seed=0))
    with pytest.raises(ValueError, match="seed"):
        loader.load_state_dict({"windows_consumed": 0, "seed": 9, "seq_len": SEQ})
    with pytest.raises(ValueError, match="micro_batch_size"):
        LoaderConfig(SEQ, 0, seed=0)
    with pytest.raises(FileNotFoundError, match="token-shard"):
        TokenData(token_corpus.tokens_dir / "train", "train")
