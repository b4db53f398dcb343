"""Print each named size's parameter count and training FLOPs per token.

Usage: ``python -m dsc_trainer.sizes [--seq-len 4096]``
"""

from __future__ import annotations

import argparse

from dsc_trainer.config import SIZES, ModelConfig


def size_rows(seq_len: int | None) -> list[tuple[str, ...]]:
    """One table row per named size: name, parameters (all / non-embedding), FLOPs/token."""
    rows: list[tuple[str, ...]] = [
        ("size", "params", "non-emb params", "seq", "M (FLOPs/tok)", "6N", "6N (all)")
    ]
    for name, config in SIZES.items():
        length = seq_len or config.max_seq_len
        rows.append(
            (
                name,
                f"{config.num_params():,}",
                f"{config.non_embedding_params():,}",
                str(length),
                f"{config.flops_per_token_m(length):.3e}",
                f"{config.flops_per_token_6n():.3e}",
                f"{config.flops_per_token_6n(include_embeddings=True):.3e}",
            )
        )
    return rows


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seq-len", type=int, default=None, help="context for M (default: each size's max_seq_len)"
    )
    args = parser.parse_args(argv)
    print(format_table(size_rows(args.seq_len)))
    print(
        f"\nvocab {ModelConfig().vocab_size}; M = 72 n_layer d^2 + 12 n_layer d seq (DeepSeek LLM)"
    )


if __name__ == "__main__":
    main()
