"""The state records the project an endpoint belongs to, and no refresh, update or delete acts in another one.

In another project (`ai_project_id`) the endpoint is not listed and its DELETE answers 404: a refresh would
drop a billed endpoint from the state (the next `up` buying a second) and a destroy would leave it running.
Each test runs the provider against the emulator in this process; the project is changed as a user would,
between two `pulumi` commands (another provider host with other settings).
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.endpoint.fields import PROJECT_FIELD
from pulumi_tokenfactory.settings import Settings
from tests.harness.emulators import InProcessEmulator, in_process_emulator, provider_on, writes

PROGRAM: dict[str, Any] = {
    "name": "GPT", "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1.0, "scaling": {"min_replicas": 1.0, "max_replicas": 2.0}, "region": "eu-north1",
    "wait_for_ready": False,
}


def _in_project(emulator: InProcessEmulator, project: str | None) -> Any:
    config = {"tokenfactory:projectId": project} if project else {}
    return provider_on(emulator, Settings(config, environ={}))


@pytest.mark.parametrize(("made_in", "now_in"), [(None, "team-b"), ("team-a", None), ("team-a", "team-b")])
def test_refresh_update_and_delete_in_another_project_are_refused_and_change_nothing(
        made_in: str | None, now_in: str | None) -> None:
    emulator = in_process_emulator(provision_seconds=0)
    made = _in_project(emulator, made_in).create(dict(PROGRAM))
    state = dict(made.outs or {})
    assert state[PROJECT_FIELD] == (made_in or "")
    elsewhere = _in_project(emulator, now_in)
    before = writes(emulator)
    for call in (lambda: elsewhere.read(made.id, state), lambda: elsewhere.delete(made.id, state),
                 lambda: elsewhere.update(made.id, state, {**PROGRAM, "name": "GPT 2"})):
        with pytest.raises(errors.ConfigurationError) as refused:
            call()
        assert f"Endpoint {made.id} belongs to " in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert writes(emulator) == before
    assert len(emulator.app.store.list_endpoints(made_in, operator=True)) == 1


def test_the_same_project_and_a_state_from_before_the_project_was_recorded_are_served() -> None:
    emulator = in_process_emulator(provision_seconds=0)
    made = _in_project(emulator, "team-a").create(dict(PROGRAM))
    same = _in_project(emulator, "team-a")
    assert same.read(made.id, dict(made.outs or {})).outs[PROJECT_FIELD] == "team-a"
    old_state = {k: v for k, v in (made.outs or {}).items() if k != PROJECT_FIELD}  # written by 0.3.0
    assert same.read(made.id, old_state).outs[PROJECT_FIELD] == "team-a"
    same.delete(made.id, dict(made.outs or {}))
    assert emulator.app.store.list_endpoints("team-a", operator=True) == []


@pytest.mark.parametrize("where", ["config", "environment"])
def test_the_api_key_given_as_the_project_id_is_refused_before_any_request(where: str) -> None:
    """It would go in every request's URL and into the state's `project_id` output, in plain text."""
    from pulumi_tokenfactory.api.client import TokenFactoryClient

    key = "tf-pasted-twice-9c2e"
    config: dict[str, Any] = {"tokenfactory:apiKey": key, "tokenfactory:baseUrl": "http://127.0.0.1:9"}
    environ: dict[str, str] = {}
    if where == "config":
        config["tokenfactory:projectId"] = key
    else:
        environ["TOKENFACTORY_PROJECT_ID"] = key
    with pytest.raises(errors.InvalidSettingError) as refused:
        TokenFactoryClient(settings=Settings(config, environ=environ))
    assert key not in str(refused.value) and "is the API key" in str(refused.value)
    assert "tokenfactory:projectId" in str(refused.value) and "TOKENFACTORY_PROJECT_ID" in str(refused.value)
    another = Settings({**config, "tokenfactory:projectId": "proj-1"}, environ={})
    assert TokenFactoryClient(settings=another).project_id == "proj-1"
