"""What a run reports: bits per byte, throughput and MFU, and the logs they go to.

Bits per byte is defined once here, for the trainer's validation and the evals' ``bpb`` task:
the summed next-token loss in nats over the scored tokens, in bits, divided by the UTF-8 bytes
those tokens stand for (special tokens and masked positions count 0 bytes; the byte counts come
from the token shards' source text, never from decoding).

MFU = achieved model FLOP/s / (devices x peak dense bf16 FLOP/s), with the FLOPs per token of
``ModelConfig.flops_per_token_m`` (DeepSeek LLM's ``M = 72 n d^2 + 12 n d l``: non-embedding,
attention over the sequence included, no causal halving). Peaks are the vendors' dense bf16
figures; an unknown device gets no MFU rather than a guessed one.

>>> round(bits_per_byte(nats=math.log(2) * 8, n_bytes=4), 6)  # 8 bits over 4 bytes
2.0
>>> peak_flops("NVIDIA H800 PCIe"), peak_flops("cpu")
(989000000000000.0, None)
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

# Dense (no sparsity) bf16 tensor-core peaks, FLOP/s. H800 is the H100 SXM die with less NVLink
# bandwidth: the same 989 T. Matched as substrings of torch.cuda.get_device_name(), in order.
PEAK_BF16_FLOPS: tuple[tuple[str, float], ...] = (
    ("H800", 989e12),
    ("H200", 989e12),
    ("H100", 989e12),
    ("A800", 312e12),
    ("A100", 312e12),
)


def bits_per_byte(nats: float, n_bytes: int) -> float:
    """Summed loss ``nats`` over tokens that stand for ``n_bytes`` UTF-8 bytes, in bits a byte."""
    if n_bytes <= 0:
        raise ValueError(f"bits per byte needs a positive byte count, got {n_bytes}")
    return nats / math.log(2) / n_bytes


def peak_flops(device_name: str) -> float | None:
    """The dense bf16 peak of the named GPU, or None when it is not in the table."""
    upper = device_name.upper()
    return next((peak for key, peak in PEAK_BF16_FLOPS if key in upper), None)


def mfu(tokens_per_second: float, flops_per_token: int, n_devices: int, peak: float) -> float:
    """Model FLOPs utilisation of ``n_devices`` devices of ``peak`` FLOP/s each."""
    return tokens_per_second * flops_per_token / (n_devices * peak)


def _finite_or_none(value: Any) -> Any:
    # JSON has no NaN/inf: a non-finite value is written as null (the step is also marked skipped).
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsLogger:
    """Rank 0's records: JSONL always, TensorBoard when installed, a progress bar in a terminal.

    Other ranks get a logger that writes nothing, so callers never branch on the rank.
    """

    def __init__(
        self, out_dir: Path, *, enabled: bool, tensorboard: bool, total_steps: int, start_step: int
    ) -> None:
        self.enabled = enabled
        self._jsonl = None
        self._tb: Any = None
        self._bar: Any = None
        if not enabled:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = (out_dir / "metrics.jsonl").open("a", encoding="utf-8")
        if tensorboard:
            self._tb = _tensorboard_writer(out_dir / "tensorboard")
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)

    def log(self, record: dict[str, Any]) -> None:
        """One record; ``step`` and ``kind`` ("train" or "valid") are required keys."""
        if not self.enabled:
            return
        assert self._jsonl is not None
        clean = {key: _finite_or_none(value) for key, value in record.items()}
        self._jsonl.write(json.dumps(clean) + "\n")
        self._jsonl.flush()
        step, kind = record["step"], record["kind"]
        if self._tb is not None:
            for key, value in record.items():
                if isinstance(value, int | float) and not isinstance(value, bool) and key != "step":
                    self._tb.add_scalar(f"{kind}/{key}", value, step)
        line = " ".join(_format(k, v) for k, v in record.items() if k != "kind")
        if self._bar is not None:
            if kind == "train":
                self._bar.n = step
                self._bar.set_postfix_str(line, refresh=True)
            else:
                self._bar.write(f"{kind}: {line}")
        else:
            log.info("%s: %s", kind, line)

    def close(self) -> None:
        for handle in (self._bar, self._tb, self._jsonl):
            if handle is not None:
                handle.close()

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _format(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{key}={value:.4g}"
    return f"{key}={value}"


def _tensorboard_writer(path: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # the tensorboard package is optional
        log.info("tensorboard is not installed: metrics go to metrics.jsonl only")
        return None
    return SummaryWriter(str(path))


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """All records of a metrics.jsonl (for tests, benchmarks and notebooks)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
