"""Benchmark data generator and harness (issue 7); not part of the test run."""
