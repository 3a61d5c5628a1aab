#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, lint, type-check the core, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
ruff check dynas_service tests benchmarks
mypy
python -m pytest "$@"
