"""`tokenfactory-account api-check` over small hand-made OpenAPI documents: each finding both ways.

`published()` (tests/harness/published.py) is the schema as the API's reference describes it. This
provider must fit it: its only finding is the one
field the provider never sends. Each test changes one thing and looks for the one finding it makes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.api.models import EndpointPatch, EndpointSpec
from pulumi_tokenfactory.console import account, apicheck
from pulumi_tokenfactory.console.apicheck import Finding, Schema, Severity, check
from pulumi_tokenfactory.endpoint.fields import CREATE_FIELDS, UPDATABLE_FIELDS
from tests.harness.published import INTEGER, TEXT, json_body, optional, published, ref

BASE = "https://api.example.test"
URL = f"{BASE}/openapi.json"


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]
    return result


def operation(doc: dict[str, Any], method: str, path: str = "/v0/dedicated_endpoints") -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"][path][method]
    return result


PATCH_PATH = "/v0/dedicated_endpoints/{endpoint_id}"
UNUSED = Finding(Severity.INFO, "POST /v0/dedicated_endpoints request DedicatedEndpointCreateRequest: has "
                                "reservation_policy, which the provider does not send")


def new_findings(doc: dict[str, Any]) -> list[Finding]:
    """What `doc` finds beyond the published document's findings."""
    baseline = set(check(published()))
    return [f for f in check(doc) if f not in baseline]


def texts(findings: list[Finding], severity: Severity) -> list[str]:
    return [f.text for f in findings if f.severity is severity]


# -- the published API ------------------------------------------------------------------------------

def test_the_published_api_fits_this_provider_but_for_one_unused_field() -> None:
    assert check(published()) == [UNUSED]


def test_removing_the_unused_field_leaves_nothing_to_report() -> None:
    doc = published()
    del schemas(doc)["DedicatedEndpointCreateRequest"]["properties"]["reservation_policy"]
    assert check(doc) == []


# -- operations --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("get", "/v0/dedicated_endpoints/templates"), ("post", "/v0/dedicated_endpoints"),
    ("get", "/v0/dedicated_endpoints"), ("patch", PATCH_PATH), ("delete", PATCH_PATH)])
def test_a_missing_operation_is_breaking(method: str, path: str) -> None:
    doc = published()
    del doc["paths"][path][method]
    assert f"{method.upper()} {path}: the operation is missing from the schema" in texts(
        new_findings(doc), Severity.BREAKING)


def test_a_path_parameter_of_another_name_is_the_same_operation() -> None:
    doc = published()
    doc["paths"]["/v0/dedicated_endpoints/{id}"] = doc["paths"].pop(PATCH_PATH)
    assert new_findings(doc) == []


# -- the create request ------------------------------------------------------------------------------

def create_schema(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schemas(doc)["DedicatedEndpointCreateRequest"]
    return result


CREATE = "POST /v0/dedicated_endpoints request DedicatedEndpointCreateRequest"


@pytest.mark.parametrize("name", ["name", "gpu_type", "region", "routing_key", "custom_weights_id"])
def test_a_field_the_create_sends_and_the_schema_lacks_is_breaking(name: str) -> None:
    doc = published()
    del create_schema(doc)["properties"][name]
    create_schema(doc)["required"] = [n for n in create_schema(doc)["required"] if n != name]
    assert f"{CREATE}: lacks {name}, which the provider sends" in texts(new_findings(doc), Severity.BREAKING)


def test_the_create_does_not_send_enabled_so_a_schema_without_it_is_fine() -> None:
    assert "enabled" not in create_schema(published())["properties"]
    doc = published()
    create_schema(doc)["properties"]["enabled"] = {"type": "boolean"}
    assert new_findings(doc) == [Finding(Severity.INFO, f"{CREATE}: has enabled, which the provider does not send")]


def test_a_nested_field_the_schema_lacks_is_breaking() -> None:
    doc = published()
    del schemas(doc)["Scaling"]["properties"]["max_replicas"]
    assert f"{CREATE}: lacks scaling.max_replicas, which the provider sends" in texts(new_findings(doc),
                                                                                       Severity.BREAKING)


def test_a_required_field_the_provider_never_sends_is_breaking() -> None:
    doc = published()
    create_schema(doc)["required"].append("reservation_policy")
    assert texts(new_findings(doc), Severity.BREAKING) == [
        f"{CREATE}: requires reservation_policy, which the provider never sends"]


@pytest.mark.parametrize("name", ["routing_key", "custom_weights_id", "description"])
def test_a_required_field_the_provider_sends_only_when_set_is_breaking(name: str) -> None:
    doc = published()
    create_schema(doc)["required"].append(name)
    assert texts(new_findings(doc), Severity.BREAKING) == [
        f"{CREATE}: requires {name}, which the provider sends only when the program sets it"]


def test_a_required_field_with_a_default_is_always_sent() -> None:
    doc = published()
    assert "region" in create_schema(doc)["required"]
    assert not [f for f in check(doc) if "region" in f.text]


def test_the_request_schema_is_found_through_the_operation_whatever_its_name() -> None:
    doc = published()
    schemas(doc)["NewCreateBody"] = {"allOf": [schemas(doc).pop("DedicatedEndpointCreateRequest")]}
    operation(doc, "post")["requestBody"]["content"]["application/json"]["schema"] = ref("NewCreateBody")
    assert check(doc) == [Finding(UNUSED.severity, UNUSED.text.replace("DedicatedEndpointCreateRequest",
                                                                        "NewCreateBody"))]


def test_the_published_name_is_used_when_the_operation_names_no_body() -> None:
    doc = published()
    del operation(doc, "post")["requestBody"]
    assert check(doc) == [UNUSED]
    del schemas(doc)["DedicatedEndpointCreateRequest"]
    assert "POST /v0/dedicated_endpoints: the schema gives no request body (nor a DedicatedEndpointCreateRequest)" \
        in texts(check(doc), Severity.BREAKING)


def test_a_request_body_given_as_a_reusable_component_is_followed() -> None:
    doc = published()
    doc["components"]["requestBodies"] = {"Create": operation(doc, "post")["requestBody"]}
    operation(doc, "post")["requestBody"] = {"$ref": "#/components/requestBodies/Create"}
    assert check(doc) == [UNUSED]


# -- the update request ------------------------------------------------------------------------------

UPDATE = "PATCH /v0/dedicated_endpoints/{endpoint_id} request DedicatedEndpointUpdateRequest"


def update_schema(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schemas(doc)["DedicatedEndpointUpdateRequest"]
    return result


@pytest.mark.parametrize("name", ["enabled", "gpu_type", "gpu_count", "scaling", "routing_key"])
def test_an_in_place_field_the_update_schema_lacks_is_breaking(name: str) -> None:
    doc = published()
    del update_schema(doc)["properties"][name]
    assert texts(new_findings(doc), Severity.BREAKING) == [f"{UPDATE}: lacks {name}, which the provider sends"]


def test_a_field_the_update_schema_requires_is_sent_only_when_it_changes() -> None:
    doc = published()
    update_schema(doc)["required"] = ["name"]
    assert texts(new_findings(doc), Severity.BREAKING) == [
        f"{UPDATE}: requires name, which the provider sends only when it changes"]


def test_a_replacing_field_in_the_update_schema_is_informational() -> None:
    doc = published()
    update_schema(doc)["properties"]["region"] = optional(ref("Region"))
    assert new_findings(doc) == [Finding(Severity.INFO, f"{UPDATE}: has region, which the provider does not send")]


def test_the_nested_scaling_of_an_update_is_checked_through_any_of() -> None:
    doc = published()
    schemas(doc)["Scaling"]["required"].append("target_load")
    schemas(doc)["Scaling"]["properties"]["target_load"] = INTEGER
    found = new_findings(doc)
    assert f"{UPDATE}: requires scaling.target_load, which the provider never sends" in texts(found, Severity.BREAKING)
    assert f"{CREATE}: has scaling.target_load, which the provider does not send" in texts(found, Severity.INFO)


# -- the answer ----------------------------------------------------------------------------------------

def endpoint_schema(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schemas(doc)["DedicatedEndpoint"]
    return result


@pytest.mark.parametrize(("name", "severity"), [
    ("id", Severity.BREAKING), ("routing_key", Severity.BREAKING), ("gpu_count", Severity.WARNING),
    ("enabled", Severity.WARNING), ("custom_weights_id", Severity.WARNING)])
def test_a_field_the_provider_reads_and_the_answer_lacks(name: str, severity: Severity) -> None:
    doc = published()
    del endpoint_schema(doc)["properties"][name]
    assert new_findings(doc) == [Finding(severity, f"answer DedicatedEndpoint: lacks {name}, which the provider reads")]


def test_endpoint_id_is_read_for_id() -> None:
    doc = published()
    endpoint_schema(doc)["properties"]["endpoint_id"] = endpoint_schema(doc)["properties"].pop("id")
    assert new_findings(doc) == []


@pytest.mark.parametrize("key", ["status", "readiness"])
def test_a_deployment_field_the_answer_lacks_is_a_warning(key: str) -> None:
    doc = published()
    del schemas(doc)["Deployment"]["properties"][key]
    assert new_findings(doc) == [
        Finding(Severity.WARNING, f"answer DedicatedEndpoint: lacks deployment.{key}, which the provider reads")]


def test_a_flat_status_stands_in_for_the_deployment_status() -> None:
    doc = published()
    endpoint_schema(doc)["properties"]["status"] = schemas(doc)["Deployment"]["properties"].pop("status")
    assert new_findings(doc) == []


def test_a_nested_scaling_field_the_answer_lacks_is_a_warning() -> None:
    doc = published()
    endpoint_schema(doc)["properties"]["scaling"] = {"type": "object", "properties": {"min_replicas": INTEGER}}
    assert Finding(Severity.WARNING, "answer DedicatedEndpoint: lacks scaling.max_replicas, which the provider reads") \
        in new_findings(doc)


def test_bare_answers_are_read_as_well_as_wrapped_ones() -> None:
    doc = published()
    operation(doc, "get")["responses"]["200"] = json_body({"type": "array", "items": ref("DedicatedEndpoint")})
    operation(doc, "post")["responses"]["201"] = json_body(ref("DedicatedEndpoint"))
    assert new_findings(doc) == []


def test_each_answer_is_checked_under_its_own_name() -> None:
    doc = published()
    schemas(doc)["CreatedEndpointBody"] = copy.deepcopy(endpoint_schema(doc))
    del schemas(doc)["CreatedEndpointBody"]["properties"]["routing_key"]
    schemas(doc)["CreatedEndpoint"]["properties"]["endpoint"] = ref("CreatedEndpointBody")
    assert new_findings(doc) == [
        Finding(Severity.BREAKING, "answer CreatedEndpointBody: lacks routing_key, which the provider reads")]


def test_an_operation_without_a_described_answer_falls_back_to_the_published_name() -> None:
    doc = published()
    for method in ("get", "post"):
        operation(doc, method)["responses"].update({"200": {"description": "ok"}, "201": {"description": "ok"}})
    assert new_findings(doc) == []
    del endpoint_schema(doc)["properties"]["gpu_type"]
    assert Finding(Severity.WARNING, "answer DedicatedEndpoint: lacks gpu_type, which the provider reads") \
        in new_findings(doc)
    del schemas(doc)["DedicatedEndpoint"]
    assert Finding(Severity.WARNING, "GET /v0/dedicated_endpoints: the schema describes no answer (nor a "
                                     "DedicatedEndpoint)") in new_findings(doc)


def test_the_template_answer_needs_a_name_and_flavors() -> None:
    doc = published()
    del schemas(doc)["Model"]["properties"]["flavors"]
    schemas(doc)["Model"]["properties"]["template_name"] = schemas(doc)["Model"]["properties"].pop("name")
    assert new_findings(doc) == [Finding(Severity.WARNING, "answer Model: lacks flavors, which the provider reads")]


# -- enums ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("component", "field", "value"), [
    ("GpuType", "gpu_type", "gpu-b300-sxm"), ("Region", "region", "tf-ca1")])
def test_a_value_the_provider_allows_and_the_schema_lacks_is_breaking(component: str, field: str, value: str) -> None:
    doc = published()
    schemas(doc)[component]["enum"].remove(value)
    assert new_findings(doc) == [
        Finding(Severity.BREAKING, f"{field}: the provider allows {value!r}, which the schema's enum lacks")]


@pytest.mark.parametrize(("component", "field"), [("GpuType", "gpu_type"), ("Region", "region")])
def test_a_value_the_schema_offers_and_the_provider_refuses_is_a_warning(component: str, field: str) -> None:
    doc = published()
    schemas(doc)[component]["enum"].append("brand-new")
    assert new_findings(doc) == [
        Finding(Severity.WARNING, f"{field}: the provider refuses 'brand-new', which the schema offers")]


def test_an_open_field_is_informational() -> None:
    doc = published()
    create_schema(doc)["properties"]["region"] = TEXT
    [found] = new_findings(doc)
    assert found.severity is Severity.INFO and found.text.startswith("region: the schema lists no values (open)")


def test_an_enum_inside_all_of_and_any_of_is_found() -> None:
    doc = published()
    create_schema(doc)["properties"]["gpu_type"] = optional({"allOf": [ref("GpuType")], "description": "GPU"})
    assert new_findings(doc) == []


@pytest.mark.parametrize(("component", "key", "value"), [
    ("DeploymentStatus", "status", "paused"), ("DeploymentReadiness", "readiness", "draining")])
def test_a_lifecycle_value_the_provider_does_not_recognise_is_a_warning(component: str, key: str, value: str) -> None:
    doc = published()
    schemas(doc)[component]["enum"].append(value)
    assert new_findings(doc) == [Finding(Severity.WARNING, f"deployment.{key}: the provider does not recognise "
                                                           f"{value!r} (it is quoted raw at run time)")]


# -- status codes -------------------------------------------------------------------------------------

def test_a_create_answering_200_is_informational() -> None:
    doc = published()
    responses = operation(doc, "post")["responses"]
    responses["200"] = responses.pop("201")
    assert new_findings(doc) == [Finding(
        Severity.INFO, "POST /v0/dedicated_endpoints: answers 200, not 201 (the client accepts any 2xx)")]


def test_a_create_without_a_success_answer_is_a_warning() -> None:
    doc = published()
    del operation(doc, "post")["responses"]["201"]
    assert Finding(Severity.WARNING, "POST /v0/dedicated_endpoints: the schema gives no success answer (201 "
                                     "expected)") in new_findings(doc)


@pytest.mark.parametrize(("method", "path"), [("post", "/v0/dedicated_endpoints"), ("patch", PATCH_PATH)])
def test_a_missing_422_is_a_warning(method: str, path: str) -> None:
    doc = published()
    del operation(doc, method, path)["responses"]["422"]
    assert new_findings(doc) == [Finding(Severity.WARNING, f"{method.upper()} {path}: no 422 validation answer (the "
                                                           "provider names the field from FastAPI's 422 detail)")]


def test_a_422_without_detail_is_a_warning() -> None:
    doc = published()
    schemas(doc)["HTTPValidationError"]["properties"] = {"errors": {"type": "array"}}
    assert len(texts(new_findings(doc), Severity.WARNING)) == 2


# -- the resolver -----------------------------------------------------------------------------------

def test_a_cyclic_or_dangling_reference_reads_as_an_empty_schema() -> None:
    schema = Schema({"paths": {}, "components": {"schemas": {"A": ref("B"), "B": ref("A")}}})
    assert schema.resolve(ref("A"))[0] == {}
    assert schema.resolve(ref("Missing")) == ({}, "Missing")
    assert schema.resolve({"$ref": "https://elsewhere.test/schema.json"})[0] == {}


def test_required_of_alternatives_is_what_every_alternative_requires() -> None:
    schema = Schema({"paths": {}})
    node = {"anyOf": [{"required": ["a", "b"]}, {"required": ["b", "c"]}, {"type": "null"}],
            "allOf": [{"required": ["d"]}]}
    assert schema.required(node) == {"b", "d"}


def test_a_malformed_document_part_reads_as_absent() -> None:
    doc = published()
    doc["paths"]["/v0/dedicated_endpoints"] = ["not", "an", "object"]
    schemas(doc)["Scaling"] = "nonsense"
    found = check(doc)
    assert "GET /v0/dedicated_endpoints: the operation is missing from the schema" in texts(found, Severity.BREAKING)


# -- the command --------------------------------------------------------------------------------------

def serve(body: Any, *, status: int = 200, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, Exception):
            raise body
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": "application/json"})
    return httpx.MockTransport(answer)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-apicheck-canary-51d2")
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", BASE)


def run(capsys: pytest.CaptureFixture[str], transport: httpx.BaseTransport, *argv: str) -> tuple[int, str, str]:
    code = apicheck.main(list(argv), transport=transport)
    out, err = capsys.readouterr()
    assert "tf-apicheck-canary-51d2" not in out + err
    assert "Traceback" not in out + err
    return code, out, err


def test_the_command_prints_grouped_findings_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    doc = published()
    del endpoint_schema(doc)["properties"]["id"]
    del schemas(doc)["Deployment"]["properties"]["readiness"]
    code, out, _ = run(capsys, serve(doc))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == f"API schema {URL} (20260930-cfb76be12) against this provider's requests and answers"
    assert [line.split()[0] for line in lines[1:-1]] == ["BREAKING", "WARNING", "INFO"]
    assert lines[-1] == "1 breaking, 1 warning(s), 1 informational"


def test_the_command_exits_0_without_breaking_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, serve(published()))
    assert code == 0
    assert out.splitlines()[-1] == "0 breaking, 0 warning(s), 1 informational"


def test_the_schema_is_fetched_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[httpx.Request] = []
    run(capsys, serve(published(), seen=seen), "--base-url", "https://other.example.test/")
    [request] = seen
    assert str(request.url) == "https://other.example.test/openapi.json"
    assert "authorization" not in request.headers


def test_the_base_url_comes_from_the_environment_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[httpx.Request] = []
    run(capsys, serve(published(), seen=seen))
    assert str(seen[0].url) == URL


@pytest.mark.parametrize(("transport", "cause"), [
    (serve({"detail": "Not Found"}, status=404), "HTTP 404 Not Found"),
    (serve(b"<html>maintenance</html>"), "the answer is not JSON"),
    (serve({"openapi": "3.1.0"}), "not an OpenAPI document (no 'paths' object)"),
    (serve(["a", "list"]), "not an OpenAPI document"),
    (serve(b'{"paths": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "the answer is not JSON"),  # nested too deep
    (serve(httpx.ConnectError("connection refused")), "ConnectError: connection refused"),
    (serve(httpx.ReadTimeout("slow")), "no answer in time (ReadTimeout)"),
])
def test_an_unreadable_schema_exits_2_with_one_line_naming_url_and_cause(
        capsys: pytest.CaptureFixture[str], transport: httpx.BaseTransport, cause: str) -> None:
    code, out, err = run(capsys, transport)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("tokenfactory-account api-check: cannot ") and URL in err and cause in err


def test_the_http_timeout_setting_governs_the_fetch_and_is_named(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def slow(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow")

    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "2.5")
    code, _, err = run(capsys, httpx.MockTransport(slow))
    assert code == 2 and seen[0]["read"] == 2.5
    assert "no answer in time (ReadTimeout)" in err and "TOKENFACTORY_HTTP_TIMEOUT" in err
    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "-1")
    code, _, err = run(capsys, serve(published()))
    assert code == 2 and "(from TOKENFACTORY_HTTP_TIMEOUT)" in err and err.count("\n") == 1


def test_a_schema_larger_than_any_api_schema_is_refused_unread(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A base URL pointing at a download or a stream must not be read into memory whole (the limit is lowered)."""
    monkeypatch.setattr(apicheck, "MAX_SCHEMA_BYTES", 1000)
    code, out, err = run(capsys, serve({"paths": {}, "padding": "x" * 2000}))
    assert code == 2 and out == ""
    assert err == f"tokenfactory-account api-check: cannot read {URL}: the answer is larger than 1000 bytes, " \
                  "far more than an API schema\n"


@pytest.mark.parametrize("url", ["ftp://example.test", "https://user:secret@example.test"])
def test_an_invalid_base_url_exits_2(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = run(capsys, serve(published()), "--base-url", url)
    assert code == 2
    assert err.startswith("tokenfactory-account api-check: Invalid Token Factory base URL")
    assert "(from --base-url)" in err and "pass --base-url or set TOKENFACTORY_BASE_URL" in err
    assert "tokenfactory:" not in err, "a console command has no stack config to send the user to"


@pytest.mark.parametrize("given", ["environment", "argument"])
def test_a_token_given_as_the_base_url_is_not_echoed(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """The two variables swapped, or the token pasted into --base-url: the command reads no token to send, but
    its refusal of the URL must not print the one it finds in the environment (`run` checks the output)."""
    token = "tf-apicheck-canary-51d2"
    if given == "environment":
        monkeypatch.setenv("TOKENFACTORY_BASE_URL", token)
        code, _, err = run(capsys, serve(published()))
    else:
        code, _, err = run(capsys, serve(published()), "--base-url", f"https://example.test/{token} x")
    assert code == 2 and err.startswith("tokenfactory-account api-check: Invalid Token Factory base URL")


def test_the_account_command_routes_api_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def check_command(argv: list[str]) -> int:
        calls.append(argv)
        return 0

    monkeypatch.setattr(apicheck, "main", check_command)
    assert account.main(["api-check", "--base-url", BASE]) == 0
    assert calls == [["--base-url", BASE]]


def test_a_schema_made_of_itself_ends() -> None:
    doc = published()
    schemas(doc)["Scaling"] = {"allOf": [ref("Scaling")], "anyOf": [ref("Scaling")], "properties": {}}
    schemas(doc)["GpuType"] = {"allOf": [ref("GpuType")], "enum": [{"an": "object"}, ["a list"]]}
    found = check(doc)
    assert f"{CREATE}: lacks scaling.min_replicas, which the provider sends" in texts(found, Severity.BREAKING)


def test_what_the_check_says_is_sent_is_what_the_request_models_send() -> None:
    """The check reads fields.py; the requests are built by api/models.py from it: the two must agree."""
    create = {s.field.name: s.always for s in apicheck.sent(CREATE_FIELDS, always_possible=True)}
    assert create == {name: info.is_required() or info.default is not None
                      for name, info in EndpointSpec.model_fields.items()}
    update = {s.field.name: s.always for s in apicheck.sent(UPDATABLE_FIELDS, always_possible=False)}
    assert update == dict.fromkeys(EndpointPatch.model_fields, False)
