"""Benchmarks: each module prints its table and exposes a function for `python -m bench`."""
