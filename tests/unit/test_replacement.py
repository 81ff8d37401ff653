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


@pytest.mark.parametrize("diffed", [False, True], ids=["up-replace", "after-a-diff"])
def test_a_replacement_that_adopts_its_own_endpoint_keeps_it(diffed: bool) -> None:
    """Adopted (or created) and `adopt_id` kept, as the docs allow, then replaced: the replacement adopts the
    endpoint again (no POST) and the original's Delete, in the same provider host, must leave what the
    replacement now holds (it deleted it: `up` reported success and the state named a deleted endpoint).
    `pulumi up --replace` makes no Diff (v3.274 checks the resource as a new one); a replacement the engine
    decides does."""
    emulator = in_process_emulator(provision_seconds=0)
    made = provider_on(emulator).create(dict(PROGRAM))
    provider = provider_on(emulator)  # the `up` that replaces: another provider host
    program = {**PROGRAM, ADOPT_FIELD: made.id}
    if diffed:
        provider.diff(made.id, dict(made.outs or {}), program)
    assert provider.create(program).id == made.id
    provider.delete(made.id, dict(made.outs or {}))
    assert [e["id"] for e in emulator.app.store.list_endpoints()] == [made.id]
    assert not any(w.startswith(("POST", "DELETE")) for w in writes(emulator)[1:])
    provider_on(emulator).delete(made.id, dict(made.outs or {}))  # a later `pulumi destroy` deletes it
    assert emulator.app.store.list_endpoints() == []
