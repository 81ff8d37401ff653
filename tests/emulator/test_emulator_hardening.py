"""The emulator under hostile conditions: huge, broken or deep bodies, corrupt state files, catastrophic
fault patterns and web pages trying to drive it. Each answer is a clear 4xx (or a clear start-up error),
never a 500, a traceback, a frozen event loop or unbounded memory; and programs are not affected.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorAdminError, EmulatorProcess, EmulatorStartError
from tests.emulator.shapes import ADMIN, created, detail_of, fields_of, legacy_error, listed
from tests.harness.emulators import in_process_emulator

SEED: dict[str, Any] = dict(SEED_EXAMPLE)
ENDPOINTS = "/v0/dedicated_endpoints"
EMULATOR = [sys.executable, "-m", "pulumi_tokenfactory.emulator"]
JSON = {"content-type": "application/json"}
MiB = 1024 * 1024


def in_process(**config: Any) -> TestClient:
    """An in-process emulator's client that answers a server error as a 500, as a real client would see it."""
    return in_process_emulator(raise_server_exceptions=False, **config).http


def refusal(response: httpx.Response, path: str, status: int, code: str) -> str:
    """The message of a refusal: the API's `{"detail": text}`, or on an operator route its `{"error"}` with `code`."""
    if path.startswith(ADMIN):
        error = legacy_error(response, status)
        assert error["code"] == code, error
        return str(error["message"])
    return detail_of(response, status)


def create_body(**changes: Any) -> bytes:
    return json.dumps({**SEED, **changes}).encode()


# -- body size: a limit, and a bounded request log ------------------------------------------------


def test_a_body_over_the_default_limit_is_refused_with_413_and_logged_as_a_prefix(
        clean_emulator: EmulatorProcess, api: httpx.Client) -> None:
    body = create_body(description="x" * (2 * MiB))
    response = api.post(ENDPOINTS, content=body, headers=JSON)
    assert str(MiB) in detail_of(response, 413)
    assert clean_emulator.endpoints() == [], "a refused body must not act"
    [entry] = clean_emulator.requests()
    assert entry["status"] == 413 and entry["body_truncated"] is True and entry["body_bytes"] == len(body)
    assert isinstance(entry["body"], str) and len(entry["body"].encode()) <= 4096
    assert entry["body"].startswith('{"name": "GPT-120B Endpoint"')
    # A body just within the limit still reaches the routes (and is a 422 there, for the over-long description).
    assert fields_of(api.post(ENDPOINTS, content=create_body(description="x" * (MiB - 500)), headers=JSON)) == [
        "description"]


def test_inference_routes_answer_413_in_openai_shape(api: httpx.Client) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * (2 * MiB)}]}).encode()
    response = api.post("/v1/chat/completions", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_the_body_limit_is_a_cli_flag(emulator_factory: Any) -> None:
    emu: EmulatorProcess = emulator_factory(extra_args=["--max-body-bytes", "100"])
    assert emu.admin("GET", "config")["max_body_bytes"] == 100
    with httpx.Client(base_url=emu.base_url, timeout=10, trust_env=False) as client:
        assert client.post(ENDPOINTS, json=SEED).status_code == 413
        assert client.post(ENDPOINTS, json={"name": "short"}).status_code == 422  # within 100 bytes: validated
    assert emu.endpoints() == []


def test_the_request_log_keeps_only_a_prefix_of_each_body_and_says_so() -> None:
    client = in_process(request_log_body_bytes=1000)
    big = create_body(description="d" * 900_000)
    for _ in range(20):
        assert client.post(ENDPOINTS, content=big, headers=JSON).status_code == 422
    small = create_body()
    assert client.post(ENDPOINTS, content=small, headers=JSON).status_code == 201
    entries = client.get("/_emulator/requests").json()["requests"]
    assert len(json.dumps(entries)) < 21 * 1500, "the log must not hold whole bodies"
    assert all(e["body_truncated"] and e["body_bytes"] == len(big) for e in entries[:20])
    assert all(len(e["body"].encode()) <= 1000 for e in entries[:20])
    assert entries[20]["body"] == json.loads(small), "a body within the prefix is logged as its JSON"
    assert entries[20]["body_truncated"] is False and entries[20]["body_bytes"] == len(small)


def test_a_cut_body_never_keeps_a_prefix_of_the_api_key() -> None:
    key = "tf-secret-KEY-0123456789"
    client = in_process(api_key=key, request_log_body_bytes=100)
    for offset in range(80, 101):
        body = json.dumps({"name": "x" * offset + key + "y" * 50}).encode()
        client.post(ENDPOINTS, content=body, headers={**JSON, "authorization": f"Bearer {key}"})
    logged = json.dumps(client.get("/_emulator/requests", headers={"authorization": f"Bearer {key}"}).json())
    assert "tf-secret" not in logged and "tf-s" not in logged


def test_the_request_log_length_is_bounded() -> None:
    """Already true before the hardening (a guard, not a fix): the log keeps the newest entries only."""
    client = in_process(request_log_limit=5)
    for _ in range(8):
        client.get(ENDPOINTS)
    assert [e["seq"] for e in client.get("/_emulator/requests").json()["requests"]] == [4, 5, 6, 7, 8]


# -- lone surrogates and deep nesting: 400, and the log stays readable ---------------------------------


SURROGATE_BODIES = {
    "create, in a value": (ENDPOINTS, create_body(name="PLACEHOLDER").replace(b"PLACEHOLDER", b"\\ud800"), "name"),
    "create, in a key": (ENDPOINTS, b'{"\\udfff": 1}', "\\udfff"),
    "create, nested": (ENDPOINTS, create_body(scaling={"PLACEHOLDER": 1}).replace(b"PLACEHOLDER", b"\\udbff"),
                       "scaling.\\udbff"),
    "inference": ("/v1/chat/completions", b'{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}',
                  "messages[0].content"),
    "admin fault": ("/_emulator/faults", b'{"path": "/x", "body": {"message": "\\ud800"}}', "body.message"),
}


@pytest.mark.parametrize("case", list(SURROGATE_BODIES))
def test_a_lone_surrogate_is_refused_with_400_and_the_log_stays_readable(
        case: str, clean_emulator: EmulatorProcess, api: httpx.Client) -> None:
    path, body, field = SURROGATE_BODIES[case]
    response = api.post(path, content=body, headers=JSON)
    if path == ENDPOINTS:  # the published API's {"detail": text}, naming where the string was
        assert f"the string at {field} holds a lone UTF-16 surrogate" in detail_of(response, 400)
    else:  # OpenAI's shape on inference, the emulator's own on its operator routes: both carry a code and a field
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_json" and "lone UTF-16 surrogate" in error["message"]
        assert (error["param"] if path.startswith("/v1/") else error["field"]) == field
    log = api.get("/_emulator/requests")
    assert log.status_code == 200, "the request log must stay serialisable"
    assert listed(api) == []
    assert api.get("/_emulator/faults").json() == {"faults": []}
    if not path.startswith("/_emulator"):
        [entry] = log.json()["requests"]
        assert entry["status"] == 400 and entry["body"] == body.decode(), "kept as the text that was sent"


def test_a_surrogate_pair_is_ordinary_text(api: httpx.Client) -> None:
    """A guard against refusing too much: an escaped pair is one valid character (here U+1F600)."""
    body = create_body(name="PLACEHOLDER").replace(b"PLACEHOLDER", b"smile \\ud83d\\ude00")
    response = api.post(ENDPOINTS, content=body, headers=JSON)
    assert created(response)["name"] == "smile \U0001f600"
    assert api.get("/_emulator/requests").json()["requests"][0]["body"]["name"] == "smile \U0001f600"


@pytest.mark.parametrize(("path", "body"), [
    (ENDPOINTS, b"[" * 100_000),
    (ENDPOINTS, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000),
    (ENDPOINTS, b"[" * 101 + b"]" * 101),
    ("/v1/chat/completions", b"[" * 100_000),
    ("/_emulator/faults", b'{"body": ' + b"[" * 200 + b"]" * 200 + b"}"),
])
def test_deeply_nested_json_is_a_400_not_a_500(path: str, body: bytes, api: httpx.Client) -> None:
    response = api.post(path, content=body, headers=JSON)
    if path == ENDPOINTS:
        message = detail_of(response, 400)
    else:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_json"
        message = response.json()["error"]["message"]
    assert "nests deeper than 100 levels" in message
    assert api.get("/_emulator/requests").status_code == 200


def test_nesting_within_the_limit_is_accepted(api: httpx.Client) -> None:
    body = b'{"path": "/nowhere", "body": ' + b"[" * 98 + b"]" * 98 + b"}"
    assert api.post("/_emulator/faults", content=body, headers=JSON).status_code == 200


# -- a corrupt --state-file: one line, exit status 2 ---------------------------------------------------


#: A record as the emulator saves it (state-file version 2): the API's fields under `spec`, the lifecycle beside it.
GOOD_SPEC: dict[str, Any] = {
    "name": "n", "description": None, "model_name": "openai/gpt-oss-120b", "flavor_name": "base",
    "gpu_type": "gpu-h100-sxm", "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2},
    "region": "eu-north1", "routing_key": "dedicated/openai/gpt-oss-120b-abcdefghijkl", "custom_weights_id": None,
    "enabled": True,
}
GOOD_RECORD: dict[str, Any] = {
    "id": "ep-0123456789abcdef", "project": "default", "spec": GOOD_SPEC,
    "created_at": 1767225600.0, "updated_at": 1767225600.0, "settled": "running", "transition": None,
    "stuck": False, "deleting_until": None, "routable_at": None, "pinned": None,
}
#: The same record as version 1 saved it: flat, no project, no custom weights. Still read.
V1_RECORD: dict[str, Any] = {
    "id": "ep-0123456789abcdef", "routing_key": "dedicated/openai/gpt-oss-120b-abcdefghijkl", "name": "n",
    "description": None, "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1, "min_replicas": 1, "max_replicas": 2, "region": "eu-north1", "enabled": True,
    "created_at": 1767225600.0, "updated_at": 1767225600.0, "settled": "running", "transition": None,
    "stuck": False, "deleting_until": None,
}


def _state(spec_changes: dict[str, Any] | None = None, **changes: Any) -> bytes:
    """A version 2 state of GOOD_RECORD, its spec changed by `spec_changes`, the record by `changes`."""
    record = {**GOOD_RECORD, "spec": {**GOOD_SPEC, **(spec_changes or {})}, **changes}
    return json.dumps({"version": 2, "clock_offset": 0.0, "endpoints": [record]}).encode()


def _v1_state(**changes: Any) -> bytes:
    return json.dumps({"version": 1, "clock_offset": 0.0, "endpoints": [{**V1_RECORD, **changes}]}).encode()


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


CORRUPT_STATES: dict[str, tuple[bytes, str]] = {
    "bad bytes": (b'\xff\xfe{"version": 2}', "is not UTF-8 text (byte 0xff at offset 0)"),
    "latin-1 text": ('{"version": 2, "endpoints": [{"name": "caf\u00e9"}]}'.encode("latin-1"), "is not UTF-8"),
    "not JSON": (b"{ not json", "is not valid JSON"),
    "deeply nested": (b"[" * 100_000, "is not valid JSON"),
    "a JSON array": (b"[1, 2]", "is not an emulator state file of version 1 or 2"),
    "version true": (b'{"version": true}', "is not an emulator state file of version 1 or 2"),
    "a later version": (b'{"version": 3, "endpoints": []}', "is not an emulator state file of version 1 or 2"),
    "endpoints not an array": (b'{"version": 2, "endpoints": {"a": 1}}', "endpoints must be an array"),
    "an endpoint not an object": (b'{"version": 2, "endpoints": ["ep-1"]}', "endpoints[0] must be an object"),
    "gpu_count a string": (_state({"gpu_count": "1"}), "endpoints[0].spec.gpu_count: Input should be a valid integer"),
    "enabled a number": (_state({"enabled": 1}), "endpoints[0].spec.enabled: Input should be a valid boolean"),
    "spec not an object": (_state(spec="n"), "endpoints[0].spec must be an object"),
    "created_at a string": (_state(created_at="2026-01-01"), "endpoints[0].created_at must be a finite number"),
    "a missing field": (json.dumps({"version": 2, "endpoints": [_without(GOOD_RECORD, "project")]}).encode(),
                        "endpoints[0].project is missing"),
    "a missing API field": (_state(spec=_without(GOOD_SPEC, "name")),
                            "endpoints[0].spec.name: Field required"),
    "an unknown field": (_state(colour="red"), "endpoints[0] has unknown field 'colour'"),
    "an unknown API field": (_state({"colour": "red"}), "endpoints[0].spec.colour: Extra inputs are not permitted"),
    "an unknown status": (_state(settled="sleeping"), "endpoints[0].settled must be one of"),
    "a broken transition": (_state(transition={"status": "starting"}), "endpoints[0].transition must have"),
    "a pin of unknown values": (_state(pinned=["sleeping", "ready"]),
                                "endpoints[0].pinned must be [status, readiness]"),
    "clock_offset a string": (b'{"version": 2, "clock_offset": "soon"}', "clock_offset must be a finite number"),
    "version 1, gpu_count a string": (_v1_state(gpu_count="1"),
                                      "endpoints[0].spec.gpu_count: Input should be a valid integer"),
    "version 1, a missing field": (json.dumps({"version": 1, "endpoints": [_without(V1_RECORD, "created_at")]}
                                              ).encode(), "endpoints[0].created_at is missing"),
}


@pytest.mark.parametrize("case", list(CORRUPT_STATES))
def test_an_unusable_state_file_stops_the_start_with_one_line_and_status_2(case: str, tmp_path: Path) -> None:
    content, problem = CORRUPT_STATES[case]
    state = tmp_path / "state.json"
    state.write_bytes(content)
    done = subprocess.run([*EMULATOR, "--port", "0", "--state-file", str(state)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"tokenfactory-emulator: state file {state} "), lines[0]
    assert problem in lines[0], lines[0]
    assert state.read_bytes() == content, "the file must not be touched"


@pytest.mark.parametrize("content", [_state(), _v1_state()], ids=["version 2", "version 1"])
def test_a_well_formed_state_file_still_loads(content: bytes, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    with EmulatorProcess(state_file=state) as emu:
        [endpoint] = emu.endpoints()
        assert endpoint["id"] == GOOD_RECORD["id"] and endpoint["routing_key"] == GOOD_SPEC["routing_key"]
        assert endpoint["scaling"] == GOOD_SPEC["scaling"] and endpoint["custom_weights_id"] is None
        assert endpoint["deployment"]["status"] == "running"
        emu.reset()  # any change writes the file back, in today's version
    assert json.loads(state.read_text())["version"] == 2


def test_the_test_helper_reports_the_state_file_problem(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(_state({"gpu_count": "1"}))
    with pytest.raises(EmulatorStartError, match=r"(?s)status 2.*endpoints\[0\]\.spec\.gpu_count: Input should be"):
        EmulatorProcess(state_file=state).start()


# -- fault path patterns: globs, whose matching time is bounded --------------------------------------------


def test_a_many_star_glob_against_a_long_path_does_not_freeze_the_emulator(emulator_factory: Any) -> None:
    emu: EmulatorProcess = emulator_factory()  # its own process: a frozen one must not take the session's down
    emu.inject_fault(path="/" + "*a" * 120 + "!", count=None)
    with httpx.Client(base_url=emu.base_url, timeout=5, trust_env=False) as client:
        started = time.monotonic()
        assert client.get("/" + "a" * 8000).status_code == 404  # not matched: no such route
        assert time.monotonic() - started < 2.0
        assert client.get("/" + "a" * 200 + "!").status_code == 503  # matched: faulted


@pytest.mark.parametrize("pattern", [
    "^/(a+)+$",                  # catastrophic in Python's `re`: regular expressions go
    r"^/v0/dedicated_endpoints/ep-[a-z0-9]+$",
    "^(unclosed",
    "/" + "*" * 300,             # too long
])
def test_a_regular_expression_or_an_overlong_glob_is_refused_when_armed(
        pattern: str, clean_emulator: EmulatorProcess) -> None:
    with pytest.raises(EmulatorAdminError) as info:
        clean_emulator.inject_fault(path=pattern)
    error = json.loads(str(info.value).split(": ", 1)[1])["error"]
    assert error["field"] == "path" and "not a supported path pattern" in error["message"], error
    assert clean_emulator.admin("GET", "faults") == {"faults": []}


#: Documented and typical globs, with paths they must (or must not) match, as `fnmatch.fnmatchcase` says.
PATTERNS: list[tuple[str, str, bool]] = [
    ("/v0/dedicated_endpoints/*", "/v0/dedicated_endpoints/ep-1", True),
    ("/v0/dedicated_endpoints/*", "/v0/dedicated_endpoints", False),
    ("*", "/v1/chat/completions", True),
    ("/v0/dedicated_endpoints", "/v0/dedicated_endpoints", True),
    ("/v0/*/templates", "/v0/dedicated_endpoints/templates", True),
    ("/v0/dedicated_endpoints/ep-*", "/v0/dedicated_endpoints/ep-4k2n0c9xq7m1v8ad", True),
    ("/v0/dedicated_endpoints/ep-*", "/v0/dedicated_endpoints/templates", False),
    ("/v0/dedicated_endpoints/ep-????", "/v0/dedicated_endpoints/ep-4k2n", True),
    ("/v0/dedicated_endpoints/ep-????", "/v0/dedicated_endpoints/ep-4k2n0c9xq7m1v8ad", False),
    ("/v[01]/*", "/v1/chat/completions", True),
    ("/v[01]/*", "/v2/chat/completions", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATTERNS)
def test_documented_globs_match_the_whole_path(pattern: str, path: str, expected: bool,
                                               clean_emulator: EmulatorProcess, api: httpx.Client) -> None:
    assert fnmatch.fnmatchcase(path, pattern) is expected, "the table itself must agree with fnmatch"
    clean_emulator.inject_fault(path=pattern, status=599)
    assert (api.get(path).status_code == 599) is expected


# -- requests from web pages ------------------------------------------------------------------------------


def _cross_site_headers(emu: EmulatorProcess) -> dict[str, dict[str, str]]:
    port = emu.base_url.rsplit(":", 1)[1]
    return {
        "foreign origin": {"origin": "https://evil.example"},
        "null origin": {"origin": "null"},
        "another localhost port": {"origin": "http://localhost:3000"},
        "same host, https": {"origin": f"https://127.0.0.1:{port}"},
        "sec-fetch-site cross-site": {"sec-fetch-site": "cross-site"},
        "sec-fetch-site same-site": {"sec-fetch-site": "same-site"},
        "dns rebinding": {"host": f"evil.example:{port}"},
        "dns rebinding, same origin": {"host": f"evil.example:{port}", "origin": f"http://evil.example:{port}"},
    }


CROSS_SITE_CASES = ["foreign origin", "null origin", "another localhost port", "same host, https",
                    "sec-fetch-site cross-site", "sec-fetch-site same-site", "dns rebinding",
                    "dns rebinding, same origin"]


@pytest.mark.parametrize("case", CROSS_SITE_CASES)
def test_a_web_page_cannot_drive_the_emulator(case: str, clean_emulator: EmulatorProcess,
                                              api: httpx.Client) -> None:
    headers = _cross_site_headers(clean_emulator)[case]
    endpoint = created(api.post(ENDPOINTS, json=SEED))
    attempts = [
        ("/_emulator/reset", api.post("/_emulator/reset", headers=headers)),
        ("/_emulator/faults", api.post("/_emulator/faults", json={"path": "*", "count": None}, headers=headers)),
        (ENDPOINTS, api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=headers)),
        (ENDPOINTS, api.post(ENDPOINTS, json=SEED, headers=headers)),
        ("/_emulator/requests", api.get("/_emulator/requests", headers=headers)),  # reading the traffic too
        (ENDPOINTS, api.get(ENDPOINTS, headers=headers)),
    ]
    rebinding = "rebinding" in case
    for path, response in attempts:
        message = refusal(response, path, 403, "forbidden_host" if rebinding else "cross_site_request")
        assert ("DNS rebinding" if rebinding else "only programs") in message, message
    assert [e["id"] for e in clean_emulator.endpoints()] == [endpoint["id"]]
    assert clean_emulator.endpoints()[0]["deployment"]["status"] != "stopping", "the DELETE must not have acted"
    assert clean_emulator.admin("GET", "faults") == {"faults": []}


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/plain", json.dumps(SEED).encode()),  # <form enctype="text/plain"> can forge a JSON-looking body
    ("application/x-www-form-urlencoded", b"name=x&model_name=y"),
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n"),
    (None, json.dumps(SEED).encode()),  # a body with no declared type at all
])
def test_a_change_must_be_declared_json(content_type: str | None, body: bytes, clean_emulator: EmulatorProcess,
                                        api: httpx.Client) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for method, path in (("POST", ENDPOINTS), ("POST", "/_emulator/faults"), ("POST", "/_emulator/endpoints")):
        response = api.request(method, path, content=body, headers=headers)
        assert "application/json" in refusal(response, path, 415, "unsupported_media_type")
    assert clean_emulator.endpoints() == []
    assert clean_emulator.admin("GET", "faults") == {"faults": []}


def test_programs_and_the_emulators_own_pages_are_not_affected(clean_emulator: EmulatorProcess,
                                                                api: httpx.Client) -> None:
    """A guard: what clients send (no Origin, loopback Host, JSON) keeps working, as do same-origin requests."""
    base = clean_emulator.base_url
    port = base.rsplit(":", 1)[1]
    assert api.post(ENDPOINTS, json=SEED).status_code == 201
    for headers in ({"origin": base}, {"sec-fetch-site": "same-origin"}, {"sec-fetch-site": "none"},
                    {"host": f"localhost:{port}"}, {"host": f"LOCALHOST:{port}", "origin": f"http://localhost:{port}"},
                    {"content-type": "application/json; charset=utf-8"}):
        response = api.post(ENDPOINTS, content=json.dumps(SEED).encode(), headers={**JSON, **headers})
        assert response.status_code == 201, (headers, response.text)
    assert api.post("/_emulator/reset").status_code == 200, "a body-less POST without a content type is accepted"
    assert api.delete(f"{ENDPOINTS}/ep-none").status_code == 404
    assert clean_emulator.endpoints() == []


def test_the_legacy_shapes_keep_the_refusal_codes() -> None:
    """With `api_shapes="legacy"` the gateway's refusals carry the emulator's error codes, as before."""
    client = in_process(api_shapes="legacy", max_body_bytes=1000)
    too_big = legacy_error(client.post(ENDPOINTS, content=create_body(description="x" * 1000), headers=JSON), 413)
    assert too_big["code"] == "payload_too_large"
    cross_site = legacy_error(client.get(ENDPOINTS, headers={"origin": "https://evil.example"}), 403)
    assert cross_site["code"] == "cross_site_request"
    deep = legacy_error(client.post(ENDPOINTS, content=b"[" * 101 + b"]" * 101, headers=JSON), 400)
    assert deep["code"] == "invalid_json" and "nests deeper" in deep["message"]
    plain = legacy_error(client.post(ENDPOINTS, content=b"{}", headers={"content-type": "text/plain"}), 415)
    assert plain["code"] == "unsupported_media_type"


def test_a_trusted_host_is_accepted_and_any_host_when_exposed() -> None:
    named = in_process(trusted_hosts=("devbox",))
    assert named.get(ENDPOINTS, headers={"host": "devbox:8080"}).status_code == 200
    assert named.get(ENDPOINTS, headers={"host": "evil.example"}).status_code == 403
    exposed = in_process(trusted_hosts=("*",))
    assert exposed.get(ENDPOINTS, headers={"host": "10.1.2.3:8080"}).status_code == 200
    assert exposed.get(ENDPOINTS, headers={"host": "10.1.2.3:8080", "origin": "http://evil.example"}).status_code == 403
