#!/usr/bin/env bash
# Set up dsc on a fresh Debian machine of this project's kind, from the registries only.
#
#   bash ci/setup.sh          the data engine: a virtualenv (.venv) with the pinned Python
#                             deps and the Rust extension built in release mode
#   bash ci/setup.sh full     everything the test suite needs as well: Debian packages for the
#                             evals toolchains and sandbox, torch/DeepSpeed/transformers/Ray,
#                             and the trainer and evals packages
#
# Caches kept outside the clone are reused when present: cargo's target dir
# ($CARGO_TARGET_DIR, default ~/.cache/dsc/target) and uv's/pip's download caches.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-core}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/dsc/target}

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }

if [ "$mode" = full ] && [ -s ci/apt-packages.txt ]; then
  # shellcheck disable=SC2046
  missing=$(for p in $(grep -v '^#' ci/apt-packages.txt); do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages: $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check uv==0.9.9
lock=ci/requirements-core.lock
[ "$mode" = full ] && lock=ci/requirements.lock
# Bytecode is compiled at install time: the environment sets PYTHONDONTWRITEBYTECODE, so
# otherwise every launched rank would compile torch and DeepSpeed from source again (~12 s).
.venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python -r "$lock"

# The Rust extension (crates/dsc-py) into .venv, editable over python/dsc.
VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release --uv -q

if [ "$mode" = full ]; then
  .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e trainer -e evals
fi
