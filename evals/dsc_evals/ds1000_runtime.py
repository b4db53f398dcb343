"""The separate Python environment DS-1000's programs run in (``python -m dsc_evals setup ds1000``).

The problems need their libraries at the versions of the public harness (xlang-ai/DS-1000), which
are not ours (we use numpy 2): a virtual environment of its own keeps them apart, and the sandbox
runs DS-1000's programs with its interpreter. It lives outside the download cache, which the
sandbox hides from programs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The public harness's pins (SOURCES.md), installed from PyPI.
PINS = (
    "numpy==1.26.4",
    "pandas==1.5.3",
    "matplotlib==3.8.4",
    "scipy==1.12.0",
    "scikit-learn==1.4.0",
    "torch==2.2.0",
    "tensorflow-cpu==2.16.1",
    "seaborn==0.13.2",
    "statsmodels==0.14.1",
    "xgboost==2.0.3",
    "gensim==4.3.2",
)


def runtime_dir() -> Path:
    """``DSC_DS1000_RUNTIME``, else ``~/.local/share/dsc_evals/ds1000``."""
    default = Path.home() / ".local" / "share" / "dsc_evals" / "ds1000"
    return Path(os.environ.get("DSC_DS1000_RUNTIME", default))


def interpreter(root: Path) -> Path:
    return root / "bin" / "python"


def build(root: Path, pins: tuple[str, ...] = PINS) -> Path:
    """Make (or complete) the environment at ``root`` with ``pins``; returns its interpreter."""
    if not interpreter(root).exists():
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    pip = [str(interpreter(root)), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins], check=True)
    return interpreter(root)
