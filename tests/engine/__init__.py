"""The provider host driven over gRPC by the engine stand-in (devtools/enginehost.py) against the emulator:
fast fault injection."""
