"""Benchmark: the app against the bare Socket.IO floor (see bench/README.md)."""
