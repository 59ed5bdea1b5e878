"""Benchmarks: fastctc side by side with the peers installed on the machine."""
