"""Models accept every response variant the API is reported to use, and map statuses to few states."""

from __future__ import annotations

import pytest

from pulumi_tokenfactory.api.models import (
    Endpoint,
    LifecycleState,
    inference_base_url,
    lifecycle_state,
    parse_endpoints,
    parse_templates,
)
from pulumi_tokenfactory.endpoint.fields import FIELDS, INPUT_FIELDS
from pulumi_tokenfactory.endpoint.properties import EndpointState
from pulumi_tokenfactory.fields import Field


@pytest.mark.parametrize(("region", "url"), [
    ("eu-north1", "https://api.tokenfactory.nebius.com/v1/"),
    ("eu-west1", "https://api.tokenfactory.eu-west1.nebius.com/v1/"),
    ("us-central1", "https://api.tokenfactory.us-central1.nebius.com/v1/"),
    (None, "https://api.tokenfactory.nebius.com/v1/"),
])
def test_inference_base_url_follows_the_region_on_the_public_api(region: str | None, url: str) -> None:
    assert inference_base_url(region) == url
    assert inference_base_url(region, "https://api.tokenfactory.nebius.com/") == url


def test_inference_base_url_follows_a_custom_api() -> None:
    assert inference_base_url("eu-west1", "http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1/"


@pytest.mark.parametrize(("raw", "state"), [
    ("running", LifecycleState.RUNNING), ("READY", LifecycleState.RUNNING), ("Provisioning", LifecycleState.STARTING),
    ("ENDPOINT_STATUS_UPDATING", LifecycleState.UPDATING), ("stopped", LifecycleState.STOPPED),
    ("failed", LifecycleState.ERROR), ("brand-new-status", LifecycleState.UNKNOWN), (None, LifecycleState.UNKNOWN),
])
def test_status_strings_map_to_lifecycle_states(raw: str | None, state: LifecycleState) -> None:
    assert lifecycle_state(raw) is state


def test_endpoint_variants() -> None:
    nested = Endpoint.model_validate({"endpoint_id": "ep-1", "deployment": {"status": "RUNNING", "replicas": 2}})
    assert nested.id == "ep-1" and nested.lifecycle is LifecycleState.RUNNING
    flag = Endpoint.model_validate({"id": "ep-2", "deployment": {"ready": True}})
    assert flag.lifecycle is LifecycleState.RUNNING
    assert parse_endpoints([{"id": "a"}])[0].id == parse_endpoints({"endpoints": [{"id": "a"}]})[0].id == "a"
    with pytest.raises(ValueError):
        parse_endpoints({"endpoints": "nope"})


def test_template_variants() -> None:
    bare = parse_templates([{"model_name": "m", "flavors": [{"name": "base", "gpu_types": ["g"], "gpu_counts": [1]}]}])
    wrapped = parse_templates({"templates": [{"template_name": "m", "flavors": [{"flavor_name": "base"}]}]})
    assert bare[0].model_name == wrapped[0].model_name == "m"
    assert bare[0].flavor("base") is not None and wrapped[0].flavor("fast") is None


# -- refresh: what an answer says about an optional field the API can clear ----------------------------------------

_CLEARABLE = [f for f in FIELDS if f.clear_with is not None]
_LISTED = {"id": "ep-1", "name": "GPT", "model_name": "openai/gpt-oss-120b", "flavor_name": "base",
           "gpu_type": "gpu-h100-sxm", "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2},
           "region": "eu-west1", "enabled": True, "routing_key": "dedicated/openai/gpt-oss-120b-abc",
           "deployment": {"status": "running", "readiness": "ready"}}


@pytest.mark.parametrize("f", _CLEARABLE, ids=lambda f: f.name)
def test_a_field_the_api_reports_null_was_cleared_outside_pulumi_and_refresh_records_it(f: Field) -> None:
    """`custom_weights_id` is "null when none": cleared in the console, refresh must say so (drift), not keep the
    recorded weights; an answer that lacks the key altogether says nothing, and the recorded value stays."""
    recorded = {**{k: v for k, v in _LISTED.items() if k in INPUT_FIELDS}, f.name: f.example}
    cleared = EndpointState.from_endpoint(Endpoint.model_validate({**_LISTED, f.name: None}), recorded)
    assert getattr(cleared, f.name) is None and f.name not in cleared.input_props()
    silent = EndpointState.from_endpoint(Endpoint.model_validate(_LISTED), recorded)
    assert getattr(silent, f.name) == f.example and silent.input_props()[f.name] == f.example
