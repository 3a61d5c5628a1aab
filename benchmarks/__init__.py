"""Benchmarks for dynas_service; results go to benchmarks/RESULTS.md."""
