"""Acceptance on the real Pulumi CLI against the emulator: every user-visible behaviour."""
