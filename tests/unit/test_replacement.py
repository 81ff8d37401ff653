"""A replacement of a resource whose program keeps `adopt_id`: it must never end with the endpoint deleted.

The provider runs against the emulator in this process (instant lifecycle); the engine's steps are called as
the engine makes them for a replacement created before the old resource is deleted: for one it decides after a
Diff, Create with the program's inputs (refused), and for `pulumi up --replace` (no Diff: v3.274 checks the
resource as a new one), Create (the adoption), then Delete of the old one (tests/cli/test_cli_replace.py runs
it on the real CLI).
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_tokenfactory.endpoint.fields import ADOPT_FIELD
from tests.harness.emulators import in_process_emulator, provider_on, writes

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::gpt"
PROGRAM: dict[str, Any] = {
    "name": "GPT", "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1.0, "scaling": {"min_replicas": 1.0, "max_replicas": 2.0}, "region": "eu-north1",
    "wait_for_ready": False, "__urn": URN,
}


def test_a_forced_replacement_never_adopts_the_endpoint_it_replaces() -> None:
    """Adopted (or created) and `adopt_id` kept, as the docs allow: a forced replacement created the "new" endpoint
    by adopting the old one, which the engine then deleted: `up` reported success, the state held a deleted id."""
    emulator = in_process_emulator(provision_seconds=0)
    created = provider_on(emulator).create(dict(PROGRAM))
    provider = provider_on(emulator)  # a later `pulumi up`: another provider host
    program = {**PROGRAM, ADOPT_FIELD: created.id}
    assert provider.diff(created.id, dict(created.outs or {}), program).replaces == []  # forced by the engine
    before = writes(emulator)
    with pytest.raises(Exception, match="adopt_id"):
        provider.create(program)
    assert writes(emulator) == before  # nothing changed: the engine stops before deleting the old endpoint


def test_up_replace_of_an_adopting_resource_keeps_its_endpoint() -> None:
    """`pulumi up --replace`: the replacement adopts the endpoint again; the old resource's Delete, in the same
    provider host, must not delete what the replacement now holds (it did: the state named a deleted endpoint)."""
    emulator = in_process_emulator(provision_seconds=0)
    made = provider_on(emulator).create(dict(PROGRAM))
    provider = provider_on(emulator)  # the `up --replace`: another provider host
    program = {**PROGRAM, ADOPT_FIELD: made.id}
    replacement = provider.create(program)
    assert replacement.id == made.id
    provider.delete(made.id, dict(made.outs or {}))
    assert [e["id"] for e in emulator.app.store.list_endpoints()] == [made.id]
    assert not any(w.startswith("DELETE") for w in writes(emulator))
