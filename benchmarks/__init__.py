"""``make bench``: throughput and memory of the DAM→Box flows against the old sequential approach.

:mod:`benchmarks.run` is the entry point; it starts every part in its own process
(:mod:`benchmarks.environment`), runs the measurements in child processes
(:mod:`benchmarks.worker`) and prints a table, then one JSON line.
"""
