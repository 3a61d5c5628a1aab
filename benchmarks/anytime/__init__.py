"""Anytime benchmark: dynas' searches against stock Ray Tune and Optuna (issue 7).

Every method gets the same machine, data split (per seed), wall-clock budget and CPUs; each
run's performance trace (best-so-far validation metric over time) is saved as JSON and the
runs are aggregated into performance profiles, expected quality over time, quality at fixed
times, the area under the expected-quality curve and each framework's overhead.

Run ``python -m benchmarks.anytime --help`` (or ``dynas bench anytime --help``).
"""
