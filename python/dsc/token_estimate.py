"""How many tokens a corpus row will be, estimated from its bytes and its languages.

``n_tokens_est = bytes / BYTES_PER_TOKEN[lang]``, summed over a sample's files. The figures
are measured, not assumed: UTF-8 bytes per token of our tokenizer (:mod:`dsc.tokenizer`,
32,000 tokens, trained on a 32 MB sample of the corpus of this machine's code) on real code it
never saw, the files of ``../shared/repos``, by ``RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1
python benchmarks/bench_token_estimate.py``. Languages with under 100 kB of such code there
(and any other) take ``DEFAULT_BYTES_PER_TOKEN``, the figure over all of those files. A
tokenizer trained on another corpus compresses differently (that training sample is mostly
Python), so the estimate is for sizing a corpus, not a token count: tokenize it for that.
"""

from __future__ import annotations

import polars as pl

#: UTF-8 bytes per token by language (``lang`` as :func:`dsc.filters.detect_language` names it).
BYTES_PER_TOKEN = {
    "C": 3.08,
    "C#": 3.81,
    "C++": 3.56,
    "CMake": 3.25,
    "Go": 2.94,
    "HTML": 2.35,
    "JSON": 2.46,
    "Java": 3.94,
    "JavaScript": 3.47,
    "Kotlin": 3.86,
    "Markdown": 3.40,
    "PHP": 3.70,
    "Python": 4.02,
    "Ruby": 3.25,
    "Rust": 3.32,
    "TypeScript": 3.40,
    "YAML": 3.27,
    "reStructuredText": 3.93,
}
DEFAULT_BYTES_PER_TOKEN = 3.45  # over all 3,018 held-out files, 22.8 MB


def bytes_per_token(lang: pl.Expr) -> pl.Expr:
    """The measured bytes per token of each language of ``lang``."""
    return lang.replace_strict(
        BYTES_PER_TOKEN, default=DEFAULT_BYTES_PER_TOKEN, return_dtype=pl.Float64
    )


def file_tokens(n_bytes: str, lang: str) -> pl.Expr:
    """The token estimate of a file row of ``n_bytes`` bytes in language ``lang``.

    >>> df = pl.DataFrame({"n_bytes": [402, 402], "lang": ["Python", "Klingon"]})
    >>> df.with_columns(n_tokens_est=file_tokens("n_bytes", "lang"))["n_tokens_est"].to_list()
    [100, 117]
    """
    return (pl.col(n_bytes) / bytes_per_token(pl.col(lang))).round().cast(pl.UInt64)


def sample_tokens(offsets: str, langs: str) -> pl.Expr:
    """The token estimate of a sample row: its files' estimates summed (file ``i`` is bytes
    ``offsets[i]:offsets[i + 1]`` of its text, in language ``langs[i]``).

    >>> df = pl.DataFrame({"offsets": [[0, 402, 804]], "langs": [["Python", "Klingon"]]})
    >>> df.with_columns(n_tokens_est=sample_tokens("offsets", "langs"))["n_tokens_est"].to_list()
    [217]
    """
    sizes = pl.col(offsets).list.diff(null_behavior="drop")
    rates = pl.col(langs).list.eval(bytes_per_token(pl.element()))
    return (sizes / rates).list.sum().round().cast(pl.UInt64)
