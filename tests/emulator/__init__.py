"""The emulator as a product: its HTTP API, lifecycle timing, faults and hardening."""
