"""Benchmarks of pulumi-tokenfactory (run: `.venv/bin/python -m benchmarks.run`)."""
