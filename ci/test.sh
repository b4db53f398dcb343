#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/dsc/target}
bash ci/setup.sh full
export PATH=$PWD/.venv/bin:$PATH VIRTUAL_ENV=$PWD/.venv

echo "== rust: format, lints, tests"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --exclude dsc-py --locked

echo "== python: lint, stubs"
ruff check .
ruff format --check .
python -m mypy.stubtest dsc._dsc

echo "== python: tests"
python -m pytest -q -p no:cacheprovider
