"""Runs ``trainer/pretrain.py`` and SIGKILLs one rank at a chosen point, as a crash would.

Launched by the resume test through the real ``deepspeed`` launcher in place of the script;
``DSC_TEST_CRASH`` says where:

* ``checkpoint:STEP:RANK``: rank RANK dies after writing half of its optimizer shard of the
  checkpoint of STEP (a write interrupted mid-file);
* ``step:STEP:RANK``: rank RANK dies as step STEP begins (steps before it are done).

Only this test harness patches anything; the trainer runs unchanged.
"""

from __future__ import annotations

import io
import os
import runpy
import signal
from pathlib import Path
from typing import Any

import torch

from dsc_trainer import loop

PRETRAIN = Path(__file__).parents[2] / "trainer" / "pretrain.py"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def crash_in_checkpoint(step: int) -> None:
    save = torch.save

    def half_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        name = str(f)
        if f"step_{step:08d}" in name and name.endswith("optim_states.pt"):
            buffer = io.BytesIO()
            save(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            with open(name, "wb") as out:
                out.write(data[: len(data) // 2])
            die()
        save(obj, f, *args, **kwargs)

    torch.save = half_save


def crash_at_step(step: int) -> None:
    train = loop.Run.train
    run_step = loop.train_step

    def counting_train(self: loop.Run) -> Path:
        def checked_step(*args: Any, **kwargs: Any) -> loop.StepResult:
            if self.step + 1 == step:  # self.step counts the steps done
                die()
            return run_step(*args, **kwargs)

        loop.train_step = checked_step
        return train(self)

    loop.Run.train = counting_train  # type: ignore[method-assign]


def main() -> None:
    kind, step, rank = os.environ["DSC_TEST_CRASH"].split(":")
    if os.environ["RANK"] == rank:
        {"checkpoint": crash_in_checkpoint, "step": crash_at_step}[kind](int(step))
    runpy.run_path(str(PRETRAIN), run_name="__main__")


if __name__ == "__main__":
    main()
