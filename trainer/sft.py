"""Instruction tuning on JSONL conversations in the chat format (DeepSeek-Coder §3.7).

    deepspeed [--num_gpus N | --hostfile HOSTFILE] trainer/sft.py --config CONFIG.toml \
        [--set section.key=value ...] [--resume]

Rows, chat format and loss mask: dsc_trainer.sft_data. Checkpoints, logs and export are the
pretraining ones (dsc_trainer.loop, python -m dsc_trainer.export).
"""

from __future__ import annotations

import logging

from dsc_trainer import cli
from dsc_trainer.distributed import World
from dsc_trainer.loop import Run, Task
from dsc_trainer.run_config import SftConfig
from dsc_trainer.sft_data import ChatEncoder, SftLoader, SftRows

log = logging.getLogger("sft")


def _rows(cfg: SftConfig, encoder: ChatEncoder, split: str) -> SftRows:
    rows = SftRows(getattr(cfg.data, split), encoder, cfg.train.seq_len, cfg.run.seed)
    if rows.too_long:
        log.warning(
            "%s: %d conversations longer than train.seq_len + 1 left out (first: %s)",
            split,
            len(rows.too_long),
            rows.too_long[0],
        )
    return rows


def sft_task(cfg: SftConfig) -> Task:
    encoder = ChatEncoder.load(cfg.data.tokenizer_dir)
    train_rows = _rows(cfg, encoder, "train")
    micro = cfg.train.micro_batch_size

    def train_source(world: World, grad_accum: int) -> SftLoader:
        return SftLoader(
            train_rows, micro, dp_rank=world.rank, dp_world=world.size, grad_accum=grad_accum
        )

    valid_source = None
    if cfg.data.valid and cfg.eval.every > 0:
        valid_rows = _rows(cfg, encoder, "valid")

        def valid_source(world: World) -> SftLoader:
            return SftLoader(valid_rows, micro, dp_rank=world.rank, dp_world=world.size, epochs=1)

    return Task(
        vocab_size=encoder.tokenizer.get_vocab_size(with_added_tokens=True),
        tokenizer_dir=cfg.data.tokenizer_dir,
        train_source=train_source,
        valid_source=valid_source,
    )


def main(argv: list[str] | None = None) -> None:
    args = cli.parser(__doc__.splitlines()[0]).parse_args(argv)
    cli.setup_logging()
    cfg = cli.load_config(SftConfig, args)
    if args.print_deepspeed_config:
        cli.print_deepspeed_config(cfg)
        return
    with Run(cfg, sft_task(cfg), resume=args.resume) as run:
        run.train()


if __name__ == "__main__":
    main()
