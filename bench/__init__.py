"""Benchmarks: each measures our figure and a baseline side by side in the same process and prints
the ratio, because these machines are shared and noisy. Never timed assertions in tests."""
