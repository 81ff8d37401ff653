"""Unit tests: one module at a time, no provider host and no CLI."""
