"""diff(): exact previews. In-place fields update, immutable fields replace, equal inputs give nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_tokenfactory.endpoint.adapter import EngineAdapter
from pulumi_tokenfactory.endpoint.fields import (
    ABSENT_WHEN_UNSET,
    BY_NAME,
    DIFFED_FIELDS,
    INPUT_FIELDS,
    REPLACE_FIELDS,
    UPDATABLE_FIELDS,
)
from pulumi_tokenfactory.endpoint.properties import EndpointInputs, EndpointState
from pulumi_tokenfactory.endpoint.validation import check_inputs
from pulumi_tokenfactory.fields import Field, Kind
from pulumi_tokenfactory.host import routingkey
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from tests.harness.endpoints import wire_endpoint

PROVIDER = DedicatedEndpointProvider()

# What the engine hands back as olds: prior outputs, numbers as floats.
STATE: dict[str, Any] = wire_endpoint(**{
    "name": "GPT",
    "description": "",
    "model_name": "openai/gpt-oss-120b",
    "wait_for_ready": True,
    "ready_timeout": 1800.0,
    "routing_key": "dedicated/openai/gpt-oss-120b-abcdefabcdef",
    "status": "running",
    "inference_base_url": "https://api.tokenfactory.nebius.com/v1/",
    "created_at": "2026-11-25T10:00:00Z",
    "updated_at": None,
    "__provider": "old-bytes",
})
NEWS: dict[str, Any] = {
    k: STATE[k] for k in ("name", "model_name", "flavor_name", "gpu_type", "gpu_count", "scaling", "region")
} | {"__provider": "new-bytes"}


def diff(**changes: Any) -> tuple[bool | None, list[str]]:
    result = PROVIDER.diff("ep-1", dict(STATE), {**NEWS, **changes})
    return result.changes, sorted(result.replaces or [])


def test_unchanged_inputs_give_no_diff_even_with_defaults_omitted_and_new_provider_bytes() -> None:
    assert diff() == (False, [])


def test_ints_and_floats_compare_equal() -> None:
    assert diff(gpu_count=1, scaling={"min_replicas": 1, "max_replicas": 2}) == (False, [])


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("name", "GPT v2"),
        ("description", "team-a"),
        ("scaling", {"min_replicas": 2.0, "max_replicas": 4.0}),
        ("enabled", False),
        ("gpu_type", "gpu-h200-sxm"),
        ("gpu_count", 2.0),
        ("routing_key", "dedicated/my-own-key"),
        ("custom_weights_id", "model-artifact_1"),
    ],
)
def test_in_place_fields_update_without_replacement(prop: str, value: Any) -> None:
    assert diff(**{prop: value}) == (True, [])


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("model_name", "deepseek-ai/DeepSeek-V3.1"),
        ("flavor_name", "fast"),
        ("region", "eu-west1"),
    ],
)
def test_immutable_fields_replace(prop: str, value: Any) -> None:
    assert diff(**{prop: value}) == (True, [prop])


def test_a_replacement_with_a_new_routing_key_is_created_before_the_old_one_is_deleted() -> None:
    result = PROVIDER.diff("ep-1", dict(STATE), {**NEWS, "model_name": "openai/gpt-oss-20b",
                                                 "routing_key": "dedicated/openai/gpt-oss-20b-new"})
    assert result.replaces == ["model_name"] and result.delete_before_replace is False


def test_a_replacement_that_keeps_the_routing_key_deletes_the_old_endpoint_first() -> None:
    """Routing keys are unique: the new endpoint cannot take the key while the old one holds it."""
    result = PROVIDER.diff("ep-1", dict(STATE), {**NEWS, "model_name": "openai/gpt-oss-20b",
                                                 "routing_key": STATE["routing_key"]})
    assert result.replaces == ["model_name"] and result.delete_before_replace is True


def test_a_routing_key_left_out_keeps_the_endpoints_key() -> None:
    assert "routing_key" not in NEWS and diff() == (False, [])


@pytest.mark.parametrize(("prop", "value"), [("wait_for_ready", False), ("ready_timeout", 60.0)])
def test_provider_options_never_replace(prop: str, value: Any) -> None:
    assert diff(**{prop: value}) == (True, [])


def _another_value(f: Field, current: Any) -> Any:
    """A valid value of `f` different from `current`, made from the declaration alone."""
    if f.limits.choices:
        return next(c for c in f.limits.choices if c != current)
    if f.type is dict:
        return {k: float(v) + 1 for k, v in current.items()}
    if f.type is bool:
        return not current
    if f.type in (int, float):
        return float(current) + 1
    return f"{current}-changed"


@pytest.mark.parametrize("prop", DIFFED_FIELDS)
def test_every_compared_input_diffs_by_its_declared_kind(prop: str) -> None:
    """A field added to the declaration is covered here without a hand-written case: in place or replace."""
    f = BY_NAME[prop]
    current = STATE.get(prop, f.default)
    expected = [prop] if f.kind is Kind.REPLACE else []
    assert diff(**{prop: _another_value(f, current)}) == (True, expected)


def test_unknown_values_are_reported_as_changes_and_replace_only_when_immutable() -> None:
    assert diff(name=Unknown()) == (True, [])
    assert diff(scaling={"min_replicas": Unknown(), "max_replicas": 2.0}) == (True, [])
    assert diff(model_name=Unknown()) == (True, ["model_name"])


def test_drift_found_by_refresh_shows_as_a_diff() -> None:
    drifted = {**STATE, "scaling": {"min_replicas": 3.0, "max_replicas": 5.0}}
    result = PROVIDER.diff("ep-1", drifted, NEWS)
    assert result.changes is True and not result.replaces


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=6,
)
in_place_values = {
    "name": st.text(min_size=1, max_size=40),
    "description": st.text(max_size=40),
    "scaling": st.tuples(st.integers(1, 9), st.integers(1, 9)).map(
        lambda t: {"min_replicas": float(min(t)), "max_replicas": float(max(t))}
    ),
    "enabled": st.booleans(),
    "gpu_type": st.sampled_from(["gpu-h100-sxm", "gpu-h200-sxm", "gpu-b200-sxm"]),
    "gpu_count": st.sampled_from([1.0, 2.0, 8.0]),
    "wait_for_ready": st.booleans(),
    "ready_timeout": st.floats(1, 86400),
}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*INPUT_FIELDS, "scaling", "junk"]), json_values, max_size=8))
def test_check_never_raises_on_any_input(news: dict[str, Any]) -> None:
    outcome = check_inputs(news, templates=lambda: [])
    assert isinstance(outcome.failures, list)
    assert all(isinstance(p, str) and isinstance(r, str) and r for p, r in outcome.failures)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=in_place_values))
def test_diff_never_replaces_when_only_in_place_fields_change(changes: dict[str, Any]) -> None:
    result = PROVIDER.diff("ep-1", dict(STATE), {**NEWS, **changes})
    assert not result.replaces
    expected_change = any(changes[k] != (STATE[k] if k != "ready_timeout" else 1800.0) for k in changes)
    assert result.changes is expected_change


def test_every_input_is_classified_once() -> None:
    assert set(UPDATABLE_FIELDS).isdisjoint(REPLACE_FIELDS)



@pytest.mark.parametrize("prop", [name for name in UPDATABLE_FIELDS if name in ABSENT_WHEN_UNSET])
def test_an_update_that_sets_an_input_the_state_lacks_patches_it(prop: str) -> None:
    """diff sees `custom_weights_id` added to the program as a change; the update must PATCH it. The state (no
    weights) is what the endpoint has, never the program's new value, or the update reports success and the
    replicas keep serving the template's weights."""
    adapter = EngineAdapter({"tokenfactory:apiKey": "k"})
    patches: list[dict[str, Any]] = []

    def update(id_: str, current: EndpointState, desired: EndpointInputs) -> EndpointState:
        patches.append(desired.patch_from(current).payload())
        return current

    adapter.controller.update = update  # type: ignore[method-assign]
    olds = {k: v for k, v in STATE.items() if k not in (prop, "__provider")}
    news = {**NEWS, prop: BY_NAME[prop].example}
    assert diff(**{prop: BY_NAME[prop].example}) == (True, [])
    adapter.update("ep-1", olds, {k: v for k, v in news.items() if k != "__provider"})
    assert patches == [{prop: BY_NAME[prop].example}]


@pytest.mark.parametrize("prop", REPLACE_FIELDS)
def test_a_replace_field_unknown_in_preview_plans_the_replacement_that_up_makes(prop: str) -> None:
    """The program leaves `routing_key` out and a replace field is unknown in preview. Should `up` replace, the
    replacement gets a new key and is created before the old endpoint is deleted (both billed meanwhile); the
    preview must not plan a delete-before-replace (nor the key kept) from the old key it cannot know is kept."""
    urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::gpt"
    old_inputs = {k: v for k, v in STATE.items() if k in INPUT_FIELDS}
    program = {k: v for k, v in NEWS.items() if k != "__provider"} | {"__urn": urn}
    checked = PROVIDER.check(old_inputs, {**program, prop: Unknown()})
    assert not checked.failures
    preview = PROVIDER.diff("ep-1", dict(STATE), checked.inputs)
    known = {**program, prop: _another_value(BY_NAME[prop], STATE[prop])}
    routingkey.settle(old_inputs, known, urn)  # what up's check gives, the value known
    up = PROVIDER.diff("ep-1", dict(STATE), known)
    assert up.replaces == [prop] and preview.replaces == [prop]
    assert preview.delete_before_replace is up.delete_before_replace


@pytest.mark.parametrize("prop", REPLACE_FIELDS)
def test_a_program_set_routing_key_unknown_in_preview_plans_the_delete_first(prop: str) -> None:
    """The program sets `routing_key` from an output (unknown in preview) and changes a replace field. Should the
    key be the old one, `up` must delete the old endpoint first (keys are unique): the preview plans that, never
    an overlap `up` would not make, and never the other way round."""
    olds = dict(STATE)
    program = {k: v for k, v in NEWS.items() if k != "__provider"}
    changed = {**program, prop: _another_value(BY_NAME[prop], STATE[prop])}
    preview = PROVIDER.diff("ep-1", olds, {**changed, "routing_key": Unknown()})
    up = PROVIDER.diff("ep-1", olds, {**changed, "routing_key": STATE["routing_key"]})
    assert preview.replaces == up.replaces == [prop]
    assert preview.delete_before_replace is True and up.delete_before_replace is True
    assert PROVIDER.diff("ep-1", olds, {**program, "routing_key": Unknown()}).replaces == [], "no replace: no order"


def test_a_routing_key_chosen_for_another_resource_is_told_apart() -> None:
    """What adoption warns of: an endpoint this provider created for another resource (its key says so)."""
    urn = "urn:pulumi:dev::p::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::second"
    inputs = {"model_name": "openai/gpt-oss-120b", "flavor_name": "base", "region": "eu-north1"}
    own = routingkey.chosen_for(inputs, urn)
    others = routingkey.chosen_for(inputs, urn.replace("::second", "::first"))
    assert routingkey.made_for_another(others, inputs, urn)
    assert routingkey.made_for_another(routingkey.chosen_for({**inputs, "region": "eu-west1"}, urn), inputs, urn)
    assert not routingkey.made_for_another(own, inputs, urn), "its own (an interrupted create it adopts back)"
    assert not routingkey.made_for_another("dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3", inputs, urn), "the API's"
    assert not routingkey.made_for_another("dedicated/my-chat", inputs, urn), "a key a person chose"
    assert not routingkey.made_for_another(None, inputs, urn) and not routingkey.made_for_another(others, inputs, None)
