"""A repository of any size made of real code: the Python files of this machine's standard
library, copied over and over into packages of one repository (a monorepo), and the peak
memory of a command run on it: for the tests and benchmarks of reading a repository larger
than a shard.

Each copy (``pkg0000``, ``pkg0001``, ...) renames every identifier of its files, and its
module paths, with its own suffix (``parse`` becomes ``parse_q3``, ``json/decoder.py``
``json_q3/decoder_q3.py``), consistently, so the code stays code that parses and imports
its own modules while no two copies share their words: near-dedup sees distinct files, and
the filters and the screening keep about what they keep of the standard library itself.
"""

from __future__ import annotations

import builtins
import keyword
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# An identifier not directly followed by a quote (a string prefix such as rb'' stays one).
IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b(?!['\"])")
# Names whose meaning is fixed by the language: renaming them would break the code.
FIXED_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def stdlib_python_files() -> list[Path]:
    """The standard library's Python files (site-packages excluded), in sorted order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(
        path
        for path in stdlib.rglob("*.py")
        if "site-packages" not in path.relative_to(stdlib).parts and path.is_file()
    )


# Stands for the suffix of a copy in a file's template: a character no Python file has.
SUFFIX = "\x00"


def template(text: str) -> str:
    """``text`` with :data:`SUFFIX` after each identifier that is not a keyword, a builtin or
    a dunder name: a copy is then one ``str.replace`` away."""

    def mark(match: re.Match[str]) -> str:
        name = match[0]
        if name in FIXED_NAMES or (name.startswith("__") and name.endswith("__")):
            return name
        return name + SUFFIX

    return IDENTIFIER.sub(mark, text)


def write_monorepo(root: Path, n_bytes: int) -> int:
    """Write a repository of at least ``n_bytes`` (whole copies of the standard library's
    Python files, the last copy cut short) under ``root``; returns the bytes written."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    templates = []
    for source in stdlib_python_files():
        text = source.read_bytes().decode("utf-8", "surrogateescape")
        if SUFFIX not in text:
            relative = source.relative_to(stdlib).with_suffix("").as_posix()
            templates.append((template(relative), template(text)))
    written = 0
    copy = 0
    while written < n_bytes:
        suffix = f"_q{copy:x}"
        for relative, marked in templates:
            if written >= n_bytes:
                break
            data = marked.replace(SUFFIX, suffix).encode("utf-8", "surrogateescape")
            # Module paths are renamed as the imports naming them are.
            target = root / f"pkg{copy:04d}" / f"{relative.replace(SUFFIX, suffix)}.py"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += len(data)
        copy += 1
    return written


@dataclass(frozen=True)
class Measured:
    """How a command ran: its exit status, wall time and peak resident memory."""

    returncode: int
    seconds: float
    peak_rss_bytes: int  # the command's own process (ru_maxrss), not its children


# Runs the command given as its arguments and writes its exit status and peak RSS (kB) to
# the file named first. A fresh small process, because a child's ru_maxrss starts from the
# resident size of the process that spawned it (Linux keeps it across exec): measured from a
# large parent (a test run) every command would look as large as the parent.
_MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(command: Sequence[str], env: Mapping[str, str] | None = None) -> Measured:
    """Run ``command`` to its end and measure it; its output goes where this process's does."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "measured")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", _MEASURE, str(report), *command], env=env, check=True)
        seconds = time.perf_counter() - started
        returncode, peak_kb = (int(n) for n in report.read_text().split())
    return Measured(returncode, seconds, peak_kb * 1024)  # ru_maxrss is in kB on Linux
