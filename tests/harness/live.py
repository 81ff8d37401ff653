"""What an emulator account holds, read in either shape the emulator has answered in.

The published shape nests the status (`deployment.status`); older emulators answered a flat
`status`. These helpers read both, so that a suite counting endpoints does not depend on which.
"""

from __future__ import annotations

from typing import Any

from devtools.harness import ENDPOINTS, EmulatorAccount


def endpoint_status(endpoint: dict[str, Any]) -> str | None:
    deployment = endpoint.get("deployment")
    nested = deployment.get("status") if isinstance(deployment, dict) else None
    return endpoint.get("status") or nested


def live_endpoints(account: EmulatorAccount) -> list[dict[str, Any]]:
    """The account's endpoints, leaving out those being deleted (read past faults and the request log)."""
    return [e for e in account.emulator.endpoints() if endpoint_status(e) != "deleting"]


def delete_all(account: EmulatorAccount) -> None:
    """Clear the faults and delete every endpoint left, through the API."""
    account.emulator.clear_faults()
    for endpoint in live_endpoints(account):
        response = account.api("DELETE", f"{ENDPOINTS}/{endpoint['id']}")
        if response.status_code != 404:
            response.raise_for_status()
