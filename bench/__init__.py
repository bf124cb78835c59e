"""Benchmarks: one script per figure, each printing a table (never part of the test suite)."""
