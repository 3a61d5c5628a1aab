#!/usr/bin/env bash
# Creates ./.venv and installs dynas_service with its test and benchmark extras.
# torch goes first with pip: 2.13.0 is a local CPU wheel on these machines, while an
# unpinned resolver would fetch a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip uv
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0"
# uv is ~15x faster than pip here and compiles bytecode (imports are 3x slower without it).
if ! uv pip install -q --compile-bytecode -e ".[test,bench]"; then
  python -m pip install -q -e ".[test,bench]"
fi
