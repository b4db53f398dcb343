"""Pretraining on the token shards of ``python -m dsc.tokenize_corpus``.

The recipe is DeepSeek-Coder's (arXiv:2401.14196, §3) on DeepSeek LLM's optimiser, schedule
and scaling laws (arXiv:2401.02954, §2-§3).

    deepspeed [--num_gpus N | --hostfile HOSTFILE] trainer/pretrain.py --config CONFIG.toml \
        [--set section.key=value ...] [--resume] [--compute-budget FLOPS]

``--compute-budget C`` sets the global batch and the peak learning rate from DeepSeek LLM's
scaling laws and prints the model/data split they suggest (dsc_trainer.scaling).
"""

from __future__ import annotations

import dataclasses

from dsc_trainer import cli
from dsc_trainer.distributed import World
from dsc_trainer.loader import LoaderConfig, PackedLoader, TokenData
from dsc_trainer.loop import Run, Task
from dsc_trainer.run_config import PretrainConfig
from dsc_trainer.scaling import scaling_plan


def with_compute_budget(cfg: PretrainConfig, compute: float, world_size: int) -> PretrainConfig:
    """``cfg`` with the batch size and peak lr of the scaling laws for ``compute`` FLOPs."""
    plan = scaling_plan(compute, seq_len=cfg.train.seq_len)
    print(plan.describe())
    batch = plan.batch_sequences(cfg.train.seq_len, cfg.train.micro_batch_size * world_size)
    train = dataclasses.replace(cfg.train, global_batch_size=batch)
    return dataclasses.replace(cfg, train=train, optim=dataclasses.replace(cfg.optim, lr=plan.lr))


def pretrain_task(cfg: PretrainConfig) -> Task:
    data = TokenData(cfg.data.dir, "train")
    train_cfg = LoaderConfig(
        seq_len=cfg.train.seq_len,
        micro_batch_size=cfg.train.micro_batch_size,
        seed=cfg.run.seed,
        fim_rate=cfg.data.fim_rate,
        spm_rate=cfg.data.spm_rate,
        num_workers=cfg.data.num_workers,
    )
    # Validation scores plain documents (no FIM), as the evals' bits-per-byte task does.
    valid_cfg = dataclasses.replace(train_cfg, fim_rate=0.0)

    def train_source(world: World, grad_accum: int) -> PackedLoader:
        return PackedLoader(
            cfg.data.dir,
            "train",
            train_cfg,
            dp_rank=world.rank,
            dp_world=world.size,
            grad_accum=grad_accum,
        )

    def valid_source(world: World) -> PackedLoader:
        return PackedLoader(
            cfg.data.dir, "valid", valid_cfg, dp_rank=world.rank, dp_world=world.size, epochs=1
        )

    return Task(
        vocab_size=data.vocab_size,
        tokenizer_dir=data.tokenizer_dir,
        train_source=train_source,
        valid_source=valid_source if cfg.eval.every > 0 else None,
    )


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser(__doc__.splitlines()[0])
    parser.add_argument("--compute-budget", type=float, metavar="FLOPS")
    args = parser.parse_args(argv)
    cli.setup_logging()
    cfg = cli.load_config(PretrainConfig, args)
    if args.compute_budget is not None:
        cfg = with_compute_budget(cfg, args.compute_budget, cli.launcher_world_size())
    if args.print_deepspeed_config:
        cli.print_deepspeed_config(cfg)
        return
    with Run(cfg, pretrain_task(cfg), resume=args.resume) as run:
        run.train()


if __name__ == "__main__":
    main()
