"""Training checkpoints -> Hugging Face Llama directories, and weights for a warm start.

``python -m dsc_trainer.export CHECKPOINT OUT_DIR`` takes a complete training checkpoint
(``.../checkpoints/step_00001000``, or a checkpoints root for its newest complete one), merges
the ZeRO shards of any stage into full fp32 tensors (DeepSpeed's ``zero_to_fp32``, on the CPU,
no process group needed) and writes ``OUT_DIR`` with ``config.json`` + ``model.safetensors``
(``dsc_trainer.hf_convert``: the released DeepSeek-Coder layout) and the tokenizer files the
run was trained with, so ``AutoModelForCausalLM.from_pretrained``, ``AutoTokenizer`` and our
evals load it. The directory appears whole or not at all (written aside, then renamed).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from torch import Tensor

from dsc_trainer.checkpoint import Checkpoint, resolve_checkpoint
from dsc_trainer.hf_convert import (
    CONFIG_FILE,
    config_from_hf,
    hf_to_ours,
    read_config,
    read_hf_state_dict,
    save_checkpoint,
)
from dsc_trainer.model import Transformer

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


def consolidated_state_dict(checkpoint: Checkpoint) -> dict[str, Tensor]:
    """The full fp32 weights of a (ZeRO-sharded) training checkpoint, by our names."""
    from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

    return get_fp32_state_dict_from_zero_checkpoint(str(checkpoint.path.parent), tag=checkpoint.tag)


def load_weights(path: Path) -> dict[str, Tensor]:
    """Our state dict from an HF directory or a training checkpoint (directory or root)."""
    if (path / CONFIG_FILE).is_file():
        return hf_to_ours(read_hf_state_dict(path), read_config(path))
    return consolidated_state_dict(resolve_checkpoint(path))


def export(
    checkpoint_path: Path,
    out_dir: Path,
    *,
    dtype: torch.dtype | None = None,
    tokenizer_dir: Path | None = None,
) -> Path:
    """Write the checkpoint as an HF Llama directory ``out_dir``; returns ``out_dir``.

    ``dtype`` defaults to the run's precision (bf16 runs export bf16); ``tokenizer_dir`` to the
    one recorded in the checkpoint.
    """
    checkpoint = resolve_checkpoint(checkpoint_path)
    marker = checkpoint.marker
    config = config_from_hf(marker["model_config"], source=f"{checkpoint.path}/complete.json")
    if dtype is None:
        dtype = torch.bfloat16 if marker["precision"] == "bf16" else torch.float32
    tokenizer = Path(tokenizer_dir or marker["tokenizer_dir"])
    if not (tokenizer / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{tokenizer}: no tokenizer.json to ship with the model")
    state = {name: t.to(dtype) for name, t in consolidated_state_dict(checkpoint).items()}
    with torch.device("meta"):
        model = Transformer(config)
    model.load_state_dict(state, strict=True, assign=True)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir}: refusing to overwrite an existing directory")
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # left over from an interrupted export
    save_checkpoint(model, partial)
    for file in tokenizer.iterdir():
        if file.is_file():
            shutil.copy2(file, partial / file.name)
    partial.rename(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a step_* directory or a checkpoints root")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dtype", choices=sorted(DTYPES), help="default: the run's precision")
    parser.add_argument("--tokenizer-dir", type=Path, help="default: the run's tokenizer")
    args = parser.parse_args(argv)
    dtype = DTYPES[args.dtype] if args.dtype else None
    out = export(args.checkpoint, args.out_dir, dtype=dtype, tokenizer_dir=args.tokenizer_dir)
    print(out)


if __name__ == "__main__":
    main()
