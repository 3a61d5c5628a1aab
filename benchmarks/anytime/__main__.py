"""``python -m benchmarks.anytime``: see :mod:`benchmarks.anytime.cli`."""

from benchmarks.anytime.cli import main

if __name__ == "__main__":  # Optuna's worker processes (spawn) re-import this module
    raise SystemExit(main())
