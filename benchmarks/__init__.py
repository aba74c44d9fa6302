"""Benchmarks behind scripts/bench: each module's `run()` returns its figure lines."""
