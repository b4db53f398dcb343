"""Progress of a phase of tasks: a bar on a terminal, log lines otherwise, nothing when quiet.

Each task has a size (its input bytes); the bar and the lines show bytes done, the rate and
the time left, estimated from the rate so far.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Literal, TextIO

Mode = Literal["bar", "lines", "quiet"]
LINE_EVERY_S = 10.0  # at most one log line per this many seconds, and one at the end


def progress_mode(quiet: bool, stream: TextIO | None = None) -> Mode:
    return "quiet" if quiet else "bar" if (stream or sys.stderr).isatty() else "lines"


class Progress:
    """Call with a task's index when it finishes; ``close`` at the end of the phase."""

    def __init__(
        self, phase: str, sizes: Sequence[int], mode: Mode, stream: TextIO | None = None
    ) -> None:
        self.phase, self.sizes, self.mode = phase, sizes, mode
        self.stream = stream or sys.stderr
        self.total, self.done_bytes, self.done_tasks = sum(sizes), 0, 0
        self.start = self.last_line = time.monotonic()
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total, unit="B", unit_scale=True, desc=phase, file=stream, leave=True
            )

    def __call__(self, index: int) -> None:
        self.done_bytes += self.sizes[index]
        self.done_tasks += 1
        if self.bar is not None:
            self.bar.update(self.sizes[index])
            self.bar.set_postfix_str(f"{self.done_tasks}/{len(self.sizes)} tasks")
        elif self.mode == "lines" and time.monotonic() - self.last_line >= LINE_EVERY_S:
            self._line()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "lines":
            self._line()

    def _line(self) -> None:
        now = time.monotonic()
        self.last_line = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done_bytes / elapsed
        left = (self.total - self.done_bytes) / rate if rate > 0 else float("nan")
        print(
            f"{self.phase}: {self.done_tasks}/{len(self.sizes)} tasks, "
            f"{self.done_bytes / 1e6:,.1f}/{self.total / 1e6:,.1f} MB, "
            f"{rate / 1e6:,.2f} MB/s, {elapsed:,.0f} s elapsed, {left:,.0f} s left",
            file=self.stream,
            flush=True,
        )
