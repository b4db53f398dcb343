"""Training-step throughput of our decoder.

CPU (default): forward + backward + AdamW step tokens/s of the ~50M "50M" config, ours against
HF ``LlamaForCausalLM`` with the same weights, config and dtype, alternating steps in one run;
prints ours / HF (target >= 1.0x).

GPU (``--gpu``): tokens/s and MFU of the 1.3B config at 4K tokens a sequence under bf16
autocast, with the attention backend ``auto`` picks (FlashAttention-2 when installed). MFU uses
DeepSeek LLM's M (non-embedding FLOPs/token incl. attention) and, for comparison, 6N.

    python benchmarks/bench_model.py [--steps 3 --batch 4 --seq 256]
    python benchmarks/bench_model.py --gpu [--peak-tflops 989]   # not runnable on CPU machines
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import LlamaConfig, LlamaForCausalLM

from dsc_trainer.config import ModelConfig, named_config
from dsc_trainer.hf_convert import config_to_hf, ours_to_hf
from dsc_trainer.model import Transformer


def optimizer(model: nn.Module) -> torch.optim.Optimizer:
    # DeepSeek LLM's AdamW settings.
    return torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)


def make_step(model: nn.Module, logits_of: Callable[[Tensor], Tensor]) -> Callable[[Tensor], None]:
    opt = optimizer(model)

    def step(tokens: Tensor) -> None:
        logits = logits_of(tokens[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1).float(), tokens[:, 1:].flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def hf_twin(ours: Transformer) -> LlamaForCausalLM:
    """HF Llama with our config and a copy of our weights, default (SDPA) attention."""
    hf = LlamaForCausalLM(LlamaConfig(**config_to_hf(ours.config, torch.float32)))
    hf.load_state_dict(ours_to_hf(ours.state_dict()))
    return hf.train()


def timed(step: Callable[[Tensor], None], tokens: Tensor) -> float:
    start = time.perf_counter()
    step(tokens)
    return time.perf_counter() - start


def bench_cpu(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    config = named_config("50M")
    torch.manual_seed(0)
    ours = Transformer(config).train()
    hf = hf_twin(ours)
    steps = {
        "ours": make_step(ours, ours),
        "hf": make_step(hf, lambda t: hf(input_ids=t).logits),
    }
    tokens = torch.randint(0, config.vocab_size, (args.batch, args.seq + 1))
    for step in steps.values():  # warm-up: allocator, optimizer state
        step(tokens)
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(args.steps):  # alternate, swapping who goes first, so both see the same load
        for name in sorted(steps, reverse=i % 2 == 1):
            seconds[name].append(timed(steps[name], tokens))
    # The median step resists load spikes from other processes on a shared machine.
    rates = {name: args.batch * args.seq / statistics.median(s) for name, s in seconds.items()}
    print(
        f"config 50M: {config.num_params():,} params, fp32, batch {args.batch} x seq {args.seq}, "
        f"median of {args.steps} timed steps each, {args.threads} threads"
    )
    for name, rate in rates.items():
        print(f"{name:>5}: {rate:8.1f} tokens/s")
    print(f"ratio ours/hf: {rates['ours'] / rates['hf']:.3f}x (target >= 1.0x)")


def bench_gpu(args: argparse.Namespace) -> None:
    # GPU only: cannot be run on the CPU machines this project is developed on.
    config: ModelConfig = named_config("1.3B")
    seq = 4096
    with torch.device("cuda"):
        model = Transformer(config).train()
    step = make_step(model, model)
    tokens = torch.randint(0, config.vocab_size, (args.batch, seq + 1), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        for _ in range(2):
            step(tokens)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(args.steps):
            step(tokens)
        torch.cuda.synchronize()
    rate = args.steps * args.batch * seq / (time.perf_counter() - start)
    peak = args.peak_tflops * 1e12
    print(f"1.3B, bf16 autocast, batch {args.batch} x {seq}: {rate:,.0f} tokens/s")
    print(f"MFU (M):  {rate * config.flops_per_token_m(seq) / peak:.1%}")
    print(f"MFU (6N): {rate * config.flops_per_token_6n(include_embeddings=True) / peak:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="1.3B MFU on CUDA instead of CPU")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=None, help="default: 4 (CPU), 1 (GPU)")
    parser.add_argument("--seq", type=int, default=256, help="CPU sequence length")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="bf16 dense (H100 SXM)")
    args = parser.parse_args()
    if args.gpu:
        args.batch = args.batch or 1
        bench_gpu(args)
    else:
        args.batch = args.batch or 4
        bench_cpu(args)


if __name__ == "__main__":
    main()
