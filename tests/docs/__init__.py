"""Docs, examples and packaging: what README, sdk-docs and the wheel promise is what happens."""
