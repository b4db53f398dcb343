"""The code BPE: lossless round trips, the released token layout, transformers loading."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc import special_tokens
from dsc.token_shards import is_validation
from dsc.tokenize_corpus import corpus_files
from dsc.tokenizer import (
    NON_UTF8_BYTES,
    byte_symbols,
    code_pre_tokenizer,
    encode_texts,
    load_tokenizer,
    save_tokenizer,
    token_bytes,
    train_tokenizer,
)
from dsc.train_tokenizer import sample_texts

STDLIB = Path(sysconfig.get_paths()["stdlib"])
VOCAB = 1500


def real_texts() -> list[str]:
    files = sorted((STDLIB / "email").rglob("*.py")) + sorted((STDLIB / "json").rglob("*.py"))
    return [p.read_text(encoding="utf-8") for p in files]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tokenizer")
    save_tokenizer(train_tokenizer(real_texts(), VOCAB), out)
    return out


@given(st.text())
def test_decoding_gives_back_any_text(tokenizer_dir: Path, text: str) -> None:
    tokenizer = load_tokenizer(tokenizer_dir)
    ids = encode_texts(tokenizer, [text])[0]
    assert tokenizer.decode(ids, skip_special_tokens=False) == text


def test_decoding_gives_back_real_files(tokenizer_dir: Path) -> None:
    tokenizer = load_tokenizer(tokenizer_dir)
    texts = [p.read_text(encoding="utf-8") for p in sorted((STDLIB / "http").rglob("*.py"))]
    texts.append((STDLIB / "zoneinfo" / "_zoneinfo.py").read_text(encoding="utf-8"))
    for text, ids in zip(texts, encode_texts(tokenizer, texts), strict=True):
        assert tokenizer.decode(ids, skip_special_tokens=False) == text


@given(st.text(alphabet=st.sampled_from(list("ab1_.( \t\r\n'é"))))
def test_every_line_that_is_not_blank_starts_a_new_piece(text: str) -> None:
    starts = {start for _, (start, _) in code_pre_tokenizer().pre_tokenize_str(text)}
    lines = text.replace("\r", "\n").split("\n")
    p = 0
    for line in lines[:-1]:
        p += len(line) + 1
        following = text[p:].replace("\r", "\n").split("\n")[0]
        if following.strip():
            assert p in starts, (text, p)


@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(special_tokens.SPECIAL_TOKENS))))
def test_special_token_strings_in_text_stay_text_unless_asked(tokenizer_dir: Path, parts) -> None:
    text = "".join(parts)
    plain = load_tokenizer(tokenizer_dir)
    special_ids = {plain.token_to_id(t) for t in special_tokens.SPECIAL_TOKENS}
    ids = encode_texts(plain, [text])[0]
    assert not special_ids & set(ids)
    assert plain.decode(ids, skip_special_tokens=False) == text
    parsing = load_tokenizer(tokenizer_dir, parse_special=True)
    parsed = parsing.encode(text, add_special_tokens=False).ids
    typed = [p for p in parts if p in special_tokens.SPECIAL_TOKENS]
    assert [parsing.id_to_token(i) for i in parsed if i in special_ids] == typed


def test_vocabulary_has_every_byte_then_the_released_tokens_in_order(tokenizer_dir: Path) -> None:
    tokenizer = load_tokenizer(tokenizer_dir)
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    assert size == VOCAB + len(NON_UTF8_BYTES) + len(special_tokens.SPECIAL_TOKENS)
    symbols = byte_symbols()
    assert all(symbols[b] in vocab for b in range(256))
    assert [vocab[symbols[b]] for b in NON_UTF8_BYTES] == list(range(VOCAB, VOCAB + 13))
    expected = list(range(VOCAB + 13, size))
    assert [vocab[t] for t in special_tokens.SPECIAL_TOKENS] == expected
    sizes = token_bytes(tokenizer)
    assert (sizes[VOCAB + 13 :] == 0).all() and (sizes[: VOCAB + 13] >= 1).all()


def test_transformers_loads_a_fast_tokenizer_that_adds_bos(tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    assert tokenizer.is_fast
    assert "Llama" not in type(tokenizer).__name__
    assert tokenizer.bos_token == special_tokens.BOS
    assert tokenizer.eos_token == special_tokens.EOS
    assert tokenizer.pad_token == special_tokens.PAD
    text = "def f(x):\n    return  x + 12345  # ünï 日本\t\n\n"
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    ours = load_tokenizer(tokenizer_dir)
    assert ids[1:] == encode_texts(ours, [text])[0]


def test_training_is_deterministic() -> None:
    texts = real_texts()[:20]
    first, second = train_tokenizer(texts, 800), train_tokenizer(texts, 800)
    assert first.to_str() == second.to_str()


def test_too_small_a_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(["x"], 100)


def test_tokenizer_sample_skips_held_out_documents_and_stops_at_its_size(token_corpus) -> None:
    import polars as pl

    files = corpus_files(token_corpus.corpus_dir)
    rows = pl.concat([pl.read_parquet(f, columns=["id", "text"]) for f in files])
    held_out = set(rows.filter(pl.Series(is_validation(rows["id"].to_list(), 0, 0.2)))["text"])
    everything = list(sample_texts(files, 1 << 40, seed=0, valid_fraction=0.2))
    assert everything and not held_out & set(everything)
    assert len(everything) == rows.height - len(held_out)
    small = list(sample_texts(files, 200_000, seed=0, valid_fraction=0.2))
    assert small and set(small) <= set(everything)
    assert sum(len(t.encode()) for t in small[:-1]) < 200_000
    assert small == list(sample_texts(files, 200_000, seed=0, valid_fraction=0.2))
    assert small != list(sample_texts(files, 200_000, seed=1, valid_fraction=0.2))


def test_saved_config_names_the_fast_class(tokenizer_dir: Path) -> None:
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
