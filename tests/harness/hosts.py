"""A provider host configured for one emulator, as the input and fault suites share it."""

from __future__ import annotations

from devtools.enginehost import ProviderHost


def configured_host(base_url: str, token: str, poll_max: float = 0.1) -> ProviderHost:
    """A not yet started host whose stack config points at `base_url` with `token` (a secret), polling fast.

    Use it as a context manager: `with configured_host(emulator.base_url, TOKEN) as host: ...`.
    """
    return ProviderHost(config={"tokenfactory:apiKey": token, "tokenfactory:baseUrl": base_url},
                        secret_keys=["tokenfactory:apiKey"],
                        env={"TOKENFACTORY_POLL_MAX_INTERVAL": str(poll_max)})
