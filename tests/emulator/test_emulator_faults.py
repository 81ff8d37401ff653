"""Fault injection against a live emulator: every action, seen from a real HTTP client."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorAdminError, EmulatorProcess
from tests.emulator.shapes import ENDPOINTS, as_listed, created, detail_of
from tests.harness.emulators import in_process_emulator

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}


def last_request(emu: EmulatorProcess) -> dict[str, Any]:
    return emu.requests()[-1]


def test_error_answers_the_status_without_acting(emu: EmulatorProcess, api: httpx.Client) -> None:
    fault_id = emu.inject_fault(method="POST", path=ENDPOINTS, status=503, retry_after=2)
    response = api.post(ENDPOINTS, json=SEED)
    assert f"injected fault {fault_id}" in detail_of(response, 503)
    assert response.headers["retry-after"] == "2"
    assert emu.endpoints() == [], "an error fault must not act"
    assert api.post(ENDPOINTS, json=SEED).status_code == 201, "count defaults to 1"
    logged = [r for r in emu.requests() if r["method"] == "POST"]
    assert [(r["status"], r["fault"], r["action"]) for r in logged] == [(503, fault_id, "error"), (201, None, None)]


def test_legacy_shapes_answer_an_injected_error_with_its_code() -> None:
    http = in_process_emulator(api_shapes="legacy").http
    assert http.post("/_emulator/faults", json={"method": "POST", "path": ENDPOINTS, "status": 503}).status_code == 200
    response = http.post(ENDPOINTS, json=SEED)
    assert response.status_code == 503 and response.json()["error"]["code"] == "injected_fault"
    assert http.get(ENDPOINTS).json() == {"endpoints": []}


def test_error_can_carry_a_custom_body(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(path=ENDPOINTS, status=429, body={"detail": "slow down"})
    response = api.get(ENDPOINTS)
    assert (response.status_code, response.json()) == (429, {"detail": "slow down"})


def test_drop_closes_the_connection_without_an_answer_or_a_change(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="POST", path=ENDPOINTS, action="drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post(ENDPOINTS, json=SEED)
    assert emu.endpoints() == []
    assert last_request(emu)["status"] == "dropped"
    assert api.get(ENDPOINTS).status_code == 200, "the server keeps serving after a drop"


def test_drop_sends_not_a_single_byte(emu: EmulatorProcess) -> None:
    emu.inject_fault(method="GET", path=ENDPOINTS, action="drop")
    host, port = emu.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"GET {ENDPOINTS} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert raw.recv(65536) == b"", "a dropped request gets EOF, not a status line"


def test_apply_then_drop_acts_but_the_answer_is_lost(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="POST", path=ENDPOINTS, action="apply_then_drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post(ENDPOINTS, json=SEED)
    assert [e["name"] for e in emu.endpoints()] == [SEED["name"]]
    assert last_request(emu)["status"] == "dropped"


def test_apply_then_error_really_applies(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="POST", path=ENDPOINTS, action="apply_then_error")
    response = api.post(ENDPOINTS, json=SEED)
    assert "applied" in detail_of(response, 500)
    [made] = emu.endpoints()
    assert made["name"] == SEED["name"]
    emu.inject_fault(method="PATCH", path=f"{ENDPOINTS}/*", action="apply_then_error", status=502)
    assert api.patch(f"{ENDPOINTS}/{made['id']}", json={"name": "renamed"}).status_code == 502
    assert emu.endpoints()[0]["name"] == "renamed"


def test_delay_answers_late_and_a_client_that_gave_up_still_gets_the_change(emu: EmulatorProcess,
                                                                              api: httpx.Client) -> None:
    emu.inject_fault(method="GET", path=ENDPOINTS, action="delay", delay=0.4)
    started = time.monotonic()
    assert api.get(ENDPOINTS).status_code == 200
    assert time.monotonic() - started >= 0.4
    emu.inject_fault(method="POST", path=ENDPOINTS, action="delay", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        api.post(ENDPOINTS, json=SEED, timeout=0.1)
    assert emu.endpoints() == [], "not yet: the request is still being held"
    deadline = time.monotonic() + 3
    while not emu.endpoints() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(emu.endpoints()) == 1, "the late request landed"


def test_malformed_answers_a_body_that_is_not_json(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="POST", path=ENDPOINTS, action="malformed")
    response = api.post(ENDPOINTS, json=SEED)
    assert response.status_code == 201, "the status the route answered, the body broken"
    with pytest.raises(ValueError):
        response.json()
    assert len(emu.endpoints()) == 1, "malformed acts, only the answer is broken"
    emu.inject_fault(path=ENDPOINTS, action="malformed", body="<html>oops</html>")
    assert api.get(ENDPOINTS).text == "<html>oops</html>"


def test_truncated_cuts_the_answer_short(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="GET", path=f"{ENDPOINTS}/templates", action="truncated")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(f"{ENDPOINTS}/templates")
    assert last_request(emu)["action"] == "truncated"
    assert api.get(f"{ENDPOINTS}/templates").status_code == 200


def test_extra_fields_are_added_everywhere_and_the_models_ignore_them(emu: EmulatorProcess,
                                                                      api: httpx.Client) -> None:
    api.post(ENDPOINTS, json=SEED)
    emu.inject_fault(method="GET", path=ENDPOINTS, action="extra_fields", count=None)
    for _ in range(2):
        body = api.get(ENDPOINTS).json()
        assert "x_emulator_note" in body and "x_emulator_note" in body["data"][0]
        assert "x_emulator_note" in body["data"][0]["deployment"], "nested objects too"
        [endpoint] = models.parse_endpoints(body)
        assert endpoint.name == SEED["name"]
    emu.clear_faults()
    emu.inject_fault(path=ENDPOINTS, action="extra_fields", body={"etag": "W/1"})
    assert api.get(ENDPOINTS).json()["etag"] == "W/1"


def test_alternate_shape_still_parses_with_the_tolerant_models(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="POST", path=ENDPOINTS, action="alternate_shape")
    single = api.post(ENDPOINTS, json=SEED).json()
    assert "endpoint" not in single and "endpoint_id" in single, "the create's endpoint, bare"
    assert single["deployment"]["status"] == "STARTING"
    assert models.Endpoint.model_validate(single).lifecycle == models.LifecycleState.STARTING
    emu.inject_fault(method="GET", path=f"{ENDPOINTS}*", action="alternate_shape", count=2)
    listed = api.get(ENDPOINTS).json()
    assert isinstance(listed, list) and "endpoint_id" in listed[0] and "id" not in listed[0]
    assert [e.id for e in models.parse_endpoints(listed)] == [single["endpoint_id"]]
    templates = api.get(f"{ENDPOINTS}/templates").json()
    assert "template_name" in templates[0] and isinstance(templates[0]["flavors"], list)
    assert "openai/gpt-oss-120b" in [t.model_name for t in models.parse_templates(templates)]
    parsed = next(t for t in models.parse_templates(templates) if t.model_name == "openai/gpt-oss-120b")
    assert [f.flavor_name for f in parsed.flavors] == ["base", "fast"]


def test_count_skip_method_and_glob_paths(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(method="patch", path="/v0/dedicated_endpoints/ep-*", status=504, count=2, skip=1)
    endpoint_id = created(api.post(ENDPOINTS, json=SEED))["id"]
    url = f"{ENDPOINTS}/{endpoint_id}"
    assert [api.patch(url, json={"name": f"n{i}"}).status_code for i in range(4)] == [200, 504, 504, 200]
    assert [as_listed(e)["name"] for e in emu.endpoints()] == ["n3"], "the faulted PATCHes did not act"
    assert api.get(f"{ENDPOINTS}/templates").status_code == 200, "the glob does not match templates"
    [fault] = emu.admin("GET", "faults")["faults"]
    assert (fault["hits"], fault["remaining"]) == (2, 0)


def test_unlimited_fault_lasts_until_cleared(emu: EmulatorProcess, api: httpx.Client) -> None:
    fault_id = emu.inject_fault(path="/v0/*", count=None)
    assert [api.get(ENDPOINTS).status_code for _ in range(3)] == [503] * 3
    emu.admin("DELETE", f"faults/{fault_id}")
    assert api.get(ENDPOINTS).status_code == 200


def test_faults_also_hit_inference_routes(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(path="/v1/chat/completions", status=500)
    response = api.post("/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 500 and response.json()["error"]["code"] == "injected_fault"


def test_admin_routes_are_neither_logged_nor_faultable(emu: EmulatorProcess, api: httpx.Client) -> None:
    emu.inject_fault(path="*", count=None)
    assert emu.endpoints() == []
    emu.admin("GET", "faults")
    assert emu.requests() == []
    assert api.get(ENDPOINTS).status_code == 503
    assert [r["path"] for r in emu.requests()] == [ENDPOINTS]


@pytest.mark.parametrize(("fault", "field"), [
    ({"action": "explode"}, "action"),
    ({"count": 0}, "count"),
    ({"status": 99}, "status"),
    ({"path": "^(unclosed"}, "path"),
    ({"action": "delay"}, None),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_fault_is_refused_naming_the_field(emu: EmulatorProcess, fault: dict[str, Any],
                                                 field: str | None) -> None:
    with pytest.raises(EmulatorAdminError) as info:
        emu.inject_fault(**fault)
    body = json.loads(str(info.value).split(": ", 1)[1])
    assert body["error"]["field"] == field
    assert emu.admin("GET", "faults") == {"faults": []}


def test_the_project_client_rides_out_a_retryable_fault(emu: EmulatorProcess) -> None:
    from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient

    emu.inject_fault(method="GET", path=ENDPOINTS, status=503, retry_after=0, count=2)
    retry = RetryPolicy(backoff_initial=0.01, backoff_max=0.02)
    with TokenFactoryClient(api_key="t", base_url=emu.base_url, retry=retry) as client:
        assert client.list_endpoints() == []
    assert [r["status"] for r in emu.requests()] == [503, 503, 200]
