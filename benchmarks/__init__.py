"""Benchmarks: figures measured in one run, printed as ratios against a same-run baseline."""
