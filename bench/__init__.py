"""Benchmarks of ghost-kds against real peers on loopback (see docs/bench.md)."""
