"""What `tokenfactory-adopt` writes declares each endpoint exactly as it is: adopting it changes nothing.

The module's promise ("every setting below is its current one, so nothing is changed") is checked the way
`pulumi up` would act on it: the declaration's inputs, checked as `check` checks them, against the endpoint,
give an empty PATCH. The endpoint carries a value for every field the API reports (examples from the
declaration), so a field the module forgets fails here: an unwritten `custom_weights_id` would be cleared,
restarting the replicas on the template's weights.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

from pulumi_tokenfactory.api.models import Endpoint
from pulumi_tokenfactory.console import adopt
from pulumi_tokenfactory.endpoint.adoption import planned_patch
from pulumi_tokenfactory.endpoint.fields import API_FIELDS, BY_NAME
from pulumi_tokenfactory.endpoint.validation import check_inputs, parse_inputs

#: A live endpoint as the API lists it: every API field set (an example where the declaration has one).
_LIVE: dict[str, Any] = {
    "id": "ep-0a1b2c3d", "name": "prod chat", "description": "team-search\nowner @alice",
    "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm", "gpu_count": 1,
    "scaling": {"min_replicas": 2, "max_replicas": 4}, "region": "eu-west1",
    "deployment": {"status": "running", "readiness": "ready", "ready_replicas": 2},
    "created_at": "2026-11-25T10:00:00Z",
    **{name: BY_NAME[name].example for name in API_FIELDS if BY_NAME[name].example is not None},
}


def _declared_inputs(module: str) -> dict[str, Any]:
    """The keyword arguments of the module's one `DedicatedEndpoint(...)`, evaluated as literals."""
    call = next(node for node in ast.walk(ast.parse(module)) if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute) and node.func.attr == "DedicatedEndpoint")
    inputs: dict[str, Any] = {}
    for keyword in call.keywords:
        value = keyword.value
        if isinstance(value, ast.Call):  # tokenfactory.ScalingArgs(min_replicas=..., max_replicas=...)
            inputs[str(keyword.arg)] = {k.arg: ast.literal_eval(k.value) for k in value.keywords}
        else:
            inputs[str(keyword.arg)] = ast.literal_eval(value)
    return inputs


@pytest.mark.parametrize("live", [_LIVE, {**_LIVE, "enabled": False,
                                          "deployment": {"status": "stopped", "readiness": "not_ready"}},
                                  {**_LIVE, "description": "", "custom_weights_id": None}],
                         ids=["every-field", "stopped", "no-description-no-weights"])
def test_the_written_module_adopts_the_endpoint_with_an_empty_patch(live: dict[str, Any]) -> None:
    endpoint = Endpoint.model_validate(live)
    findings = adopt.plan([endpoint])
    assert [f.resource_name for f in findings] == ["prod-chat"]
    declared = _declared_inputs(adopt.render(findings, source="http://emulator"))
    outcome = check_inputs(declared)
    assert outcome.failures == []
    patch = planned_patch(endpoint, parse_inputs(outcome.inputs))
    assert patch.is_empty(), f"adopting would PATCH {patch.model_dump(exclude_unset=True)}"


@pytest.mark.parametrize("name", [n for n in API_FIELDS if BY_NAME[n].clear_with is not None])
def test_adopting_an_endpoint_without_a_clearable_value_patches_the_programs_value(name: str) -> None:
    """An endpoint that reports `custom_weights_id: null` serves the template's weights: a program that declares
    weights must PATCH them on adoption, not record them as if the endpoint already served them."""
    endpoint = Endpoint.model_validate({**_LIVE, name: None})
    declared = _declared_inputs(adopt.render(adopt.plan([endpoint]), source="http://emulator"))
    patch = planned_patch(endpoint, parse_inputs({**declared, name: BY_NAME[name].example}))
    assert patch.model_dump(exclude_unset=True) == {name: BY_NAME[name].example}


def _interrupt(*_: Any, **__: Any) -> Any:
    raise KeyboardInterrupt


def _status(main: Any, argv: list[str]) -> int:
    """The command's exit status; a KeyboardInterrupt that escapes (the traceback a user would see) fails the test
    instead of ending pytest's session."""
    try:
        return int(main(argv))
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the command as a Python traceback")


@pytest.mark.parametrize("command", ["tokenfactory-account", "tokenfactory-adopt"])
def test_ctrl_c_during_the_listing_ends_with_one_line_and_status_130(
        command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from pulumi_tokenfactory.api.client import TokenFactoryClient
    from pulumi_tokenfactory.console import account

    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-ctrl-c-key")
    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", _interrupt)
    main, argv = ((account.main, ["--base-url", "http://127.0.0.1:9"]) if command == "tokenfactory-account" else
                  (adopt.main, ["--base-url", "http://127.0.0.1:9", "--output", str(tmp_path / "a.py")]))
    assert _status(main, argv) == 130
    assert capsys.readouterr().err == f"{command}: interrupted; nothing was changed or written\n"
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_module_is_written_leaves_the_earlier_one_whole(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from pathlib import Path

    from pulumi_tokenfactory.api.client import TokenFactoryClient

    output = tmp_path / "adopted_endpoints.py"
    output.write_text("# the module an earlier run wrote\n")
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-ctrl-c-key")
    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", lambda self: [Endpoint.model_validate(_LIVE)])
    monkeypatch.setattr(Path, "replace", _interrupt)
    assert _status(adopt.main, ["--base-url", "http://127.0.0.1:9", "--output", str(output), "--force"]) == 130
    assert output.read_text() == "# the module an earlier run wrote\n"
    assert [p.name for p in tmp_path.iterdir()] == ["adopted_endpoints.py"], "no partial file left"
