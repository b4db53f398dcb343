"""A byte-level BPE tokenizer for code, in the released DeepSeek-Coder layout (its §3.2).

Pre-tokenization decides which byte strings BPE may ever merge; it is chosen for code and
measured against Hugging Face's stock ``ByteLevelBPETokenizer`` (GPT-2's pattern) on held-out
code of 13 languages by ``benchmarks/bench_tokens.py``. A piece is, in the order tried:

* an English contraction (``'s``, ``'ll``, ...), as GPT-2, for comments and Markdown;
* a word, a number or a punctuation run, each with the spaces and tabs before it and the line
  breaks after it. Spaces before a piece join it, so a line's indentation and its first word
  (eight spaces and ``return``) can be one token; a run of line breaks ends the piece before it,
  so every line that is not blank starts a new piece: a cut at such a line's start
  (line-level infilling) is always a token boundary. This is the largest gain over GPT-2's
  pattern, which puts a newline and the next line's indentation in one piece;
* numbers are groups of up to three digits (as GPT-4's and Llama 3's tokenizers), so no token
  spans more than three digits; GPT-2 keeps whole numbers, the released DeepSeek-Coder tokenizer
  single digits, which cost 2-4 % of compression on Markdown and JavaScript here;
* punctuation runs never join letters or digits (``.append`` reuses ``append``), and ``_`` is
  punctuation: joining it to words helped Python and C but cost 2-4 % on every camelCase
  language;
* blank lines, and whitespace at the end of a line, are pieces of their own.

There is no normalizer, and ``ByteLevel`` maps every byte to a symbol, so decoding gives back the
original bytes of any text. The vocabulary covers all 256 bytes: the 243 that occur in UTF-8 are
the initial alphabet; after training the 13 that never do (0xC0, 0xC1, 0xF5-0xFF) follow the BPE
tokens, and then the added tokens of :mod:`dsc.special_tokens`, the released id order.

Typed special-token strings in ordinary text stay ordinary text in :func:`encode_texts` (the
corpus path): a repository that mentions the FIM-begin string must not inject a sentinel. The saved
``tokenizer.json`` keeps the released tokenizer's behaviour for prompts (added tokens in a prompt
string are recognised); with transformers, ``split_special_tokens=True`` turns that off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from dsc.atomic import write_with
from dsc.special_tokens import BOS, EOS, PAD, SPECIAL_TOKENS

# One alternative for words, numbers and punctuation behind a shared space prefix: the same
# pieces as three alternatives, and 1.3x faster in the tokenizers' regex engine.
PRE_TOKENIZE_PATTERN = (
    r"'(?i:[sdmt]|ll|ve|re)"
    r"|[ \t]*(?:\p{L}+|\p{N}{1,3}|[^\s\p{L}\p{N}]+)[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+"
)
#: Bytes that never occur in UTF-8; the released vocabulary adds them after the BPE tokens.
NON_UTF8_BYTES = (0xC0, 0xC1, *range(0xF5, 0x100))
DEFAULT_VOCAB_SIZE = 32000
TOKENIZER_FILE = "tokenizer.json"


def byte_symbols() -> dict[int, str]:
    """GPT-2's byte -> printable symbol map, the alphabet of ``pre_tokenizers.ByteLevel``.

    Printable Latin-1 bytes stand for themselves; the others take code points from 256 upwards.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    symbols = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return symbols


def code_pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRE_TOKENIZE_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def train_tokenizer(texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE) -> Tokenizer:
    """Train the code BPE on ``texts`` and add the released tokens after it.

    ``vocab_size`` counts the BPE tokens (the 243-byte alphabet included), as the paper's 32,000.
    """
    if vocab_size <= 256:
        raise ValueError(f"vocab_size must exceed the 256 byte tokens, got {vocab_size}")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = code_pre_tokenizer()
    tokenizer.decoder = decoders.ByteLevel()
    symbols = byte_symbols()
    alphabet = [symbols[b] for b in range(256) if b not in NON_UTF8_BYTES]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, initial_alphabet=alphabet, show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer)
    return with_released_tokens(tokenizer)


def with_released_tokens(tokenizer: Tokenizer) -> Tokenizer:
    """Append the 13 non-UTF-8 bytes to the BPE vocabulary, then the special tokens, and make
    encoding add BOS."""
    spec = json.loads(tokenizer.to_str())
    vocab: dict[str, int] = spec["model"]["vocab"]
    symbols = byte_symbols()
    for b in NON_UTF8_BYTES:
        vocab.setdefault(symbols[b], len(vocab))
    result = Tokenizer.from_str(json.dumps(spec))
    result.add_special_tokens(list(SPECIAL_TOKENS))
    bos = result.token_to_id(BOS)
    result.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos)]
    )
    return result


def save_tokenizer(tokenizer: Tokenizer, out_dir: Path, model_max_length: int = 16384) -> None:
    """Write a directory that ``transformers.AutoTokenizer.from_pretrained`` loads as a fast
    tokenizer (``PreTrainedTokenizerFast``, never the Llama class: transformers v5 rebuilds
    Llama tokenizers with a Metaspace pre-tokenizer, which breaks byte-level ones)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
    }
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}
    files = {
        TOKENIZER_FILE: tokenizer.to_str(pretty=True),
        "tokenizer_config.json": json.dumps(config, indent=2, ensure_ascii=False),
        "special_tokens_map.json": json.dumps(special, indent=2, ensure_ascii=False),
    }
    for name, text in files.items():
        write_with(
            lambda tmp, text=text: tmp.write_text(text + "\n", encoding="utf-8"), out_dir / name
        )


def load_tokenizer(tokenizer_dir: Path, *, parse_special: bool = False) -> Tokenizer:
    """The tokenizer of a directory written by :func:`save_tokenizer` (or a released model's).

    With ``parse_special`` False (the default), special-token strings in the text are encoded
    as the text they are; pass True to let them become the special tokens.
    """
    path = tokenizer_dir / TOKENIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no tokenizer here (made by python -m dsc.train_tokenizer)"
        )
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.encode_special_tokens = not parse_special
    return tokenizer


def tokenizer_hash(tokenizer_dir: Path) -> str:
    """SHA-256 of ``tokenizer.json``: which vocabulary a token shard was made with."""
    return hashlib.sha256((tokenizer_dir / TOKENIZER_FILE).read_bytes()).hexdigest()


def encode_texts(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, without BOS/EOS; special-token strings stay text."""
    if not tokenizer.encode_special_tokens:
        raise ValueError("encode_texts needs a tokenizer from load_tokenizer(parse_special=False)")
    return [e.ids for e in tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)]


def token_bytes(tokenizer: Tokenizer) -> npt.NDArray[np.int32]:
    """UTF-8 bytes each id stands for (0 for the added tokens): what bits per byte divides by."""
    sizes = np.zeros(tokenizer.get_vocab_size(with_added_tokens=True), dtype=np.int32)
    specials = set(SPECIAL_TOKENS)
    for token, i in tokenizer.get_vocab(with_added_tokens=True).items():
        if token not in specials:
            sizes[i] = len(token)  # one byte-level symbol per byte
    return sizes
