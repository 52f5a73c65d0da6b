"""Benchmarks (not tests): `python -m bench.ingest_bench`. See bench/README.md."""
