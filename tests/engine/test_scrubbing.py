"""Secrets in error text: an answer that echoes the `Authorization` header never carries the token further.

A gateway or the API itself may quote the request's `Authorization` header in
an error: in a JSON message, a plain-text or HTML page, or a request-id
header. Whatever the client builds from such an answer (the exception's
message, str and repr, its request id, the retry log line) becomes the gRPC
error detail the Pulumi CLI prints, or a line in the provider host's stderr;
none of it may hold the token, in any encoding. These tests play hostile
answers at the client (httpx.MockTransport), through the emulator's fault
injection, and through a small hostile gateway in front of the provider host.

A base URL with credentials (`https://user:pass@host`) is refused before any
request: httpx would otherwise send them as Basic auth in place of the token,
and `inference_base_url`, derived from the base URL, would put them in the state.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from devtools.enginehost import PROVIDER_KEY, ProviderCallError, ProviderHost, make_urn
from devtools.harness import EmulatorAccount, endpoint_host, endpoint_inputs
from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api import client as client_module
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient, resolve_base_url
from pulumi_tokenfactory.api.models import EndpointSpec, Scaling
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.accounts import AccountSettings

pytestmark = pytest.mark.timeout(120)

TOKEN = "tfk-CANARY-scrub-4f0d9a2c55e3b71"
PASSWORD = "pw-CANARY-url-0b7d21e4"
#: What the client puts where a credential was (`client.REDACTED`; spelled out so this file imports on old code).
REDACTED = "[REDACTED]"
PROGRAM: dict[str, Any] = endpoint_inputs("scrub", scaling={"min_replicas": 1, "max_replicas": 1}, wait_for_ready=False)
SPEC = EndpointSpec(name="e", model_name="m", flavor_name="base", gpu_type="gpu-h100-sxm", gpu_count=1,
                    scaling=Scaling(min_replicas=1, max_replicas=2))


# --------------------------------------------------------------------------- what counts as a leak


def _base64_forms(secret: str) -> list[str]:
    """base64 of texts that embed the secret at each alignment (e.g. `Basic base64(user:token)`), middle part."""
    forms = []
    for prefix in ("", "u:", "us:"):
        encoded = base64.b64encode(f"{prefix}{secret}".encode()).decode()
        forms.append(encoded[4:-4])
    return forms


def leaked_forms(text: str, secret: str = TOKEN) -> list[str]:
    """Every spelling of the secret found in `text`: verbatim, a 12-character fragment, URL-, JSON-,
    HTML-escaped or base64."""
    candidates = {
        "verbatim": secret,
        "prefix fragment": secret[:12],
        "suffix fragment": secret[-12:],
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "json-escaped": json.dumps(secret)[1:-1],
        "html-escaped": html.escape(secret),
        "upper-cased": secret.upper(),
    }
    found = [name for name, form in candidates.items() if form in text]
    found += [f"base64 {form}" for form in _base64_forms(secret) if form in text]
    return found


def _basic(secret: str, user: str = "user") -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


# --------------------------------------------------------------------------- the client, at the transport


Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, sleeps: list[float] | None = None, **policy: float) -> TokenFactoryClient:
    retry = RetryPolicy(**policy) if policy else RetryPolicy(max_attempts=1)  # type: ignore[arg-type]
    return TokenFactoryClient(api_key=TOKEN, base_url="http://api.test", transport=httpx.MockTransport(handler),
                              retry=retry, sleep=(sleeps if sleeps is not None else []).append)


def _echo(status: int, *, body: Callable[[str], Any] | None = None, text: Callable[[str], str] | None = None,
          headers: Callable[[str], dict[str, str]] | None = None) -> Handler:
    """An answer that quotes the request's Authorization header however the case wants."""
    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        extra = headers(auth) if headers else {}
        if body is not None:
            return httpx.Response(status, json=body(auth), headers=extra)
        return httpx.Response(status, text=text(auth) if text else "", headers=extra)
    return handler


HOSTILE_ANSWERS: dict[str, Handler] = {
    "json-error-message": _echo(401, body=lambda a: {"error": {"message": f"token rejected: {a}",
                                                               "code": "unauthorized"}}),
    "json-error-message-and-field": _echo(400, body=lambda a: {"error": {"message": "bad header", "field": a}}),
    "json-top-level-message": _echo(403, body=lambda a: {"message": f"forbidden for {a}"}),
    "json-detail": _echo(422, body=lambda a: {"detail": f"cannot use {a}"}),
    "json-detail-list": _echo(422, body=lambda a: {"detail": [{"msg": f"header {a} invalid", "loc": ["header"]}]}),
    "json-error-string": _echo(401, body=lambda a: {"error": f"invalid credentials {a}"}),
    "json-request-id-in-body": _echo(401, body=lambda a: {"error": {"message": "no", "request_id": a}}),
    "plain-text-body": _echo(401, text=lambda a: f"401 Unauthorized\nAuthorization: {a}\n"),
    "html-body": _echo(502, text=lambda a: f"<html><body><h1>Bad gateway</h1><pre>authorization: {html.escape(a)}"
                                            f"</pre></body></html>"),
    "html-body-padded-past-the-excerpt": _echo(
        502, text=lambda a: "<html>" + "x" * 266 + f" {a} </html>"),  # the token straddles the 300-character cut
    "url-encoded-echo": _echo(401, text=lambda a: f"denied: header={urllib.parse.quote(a, safe='')}"),
    "url-encoded-plus-echo": _echo(401, text=lambda a: f"denied: header={urllib.parse.quote_plus(a)}"),
    "json-escaped-echo-in-broken-json": _echo(500, text=lambda a: '{"error": {"message": ' + json.dumps(a)[:-1]),
    "basic-user-token": _echo(401, text=lambda _: f"proxy saw Authorization: Basic {_basic(TOKEN)}"),
    "basic-longer-user-token": _echo(401, text=lambda _: f"credential {_basic(TOKEN, 'alice')} refused"),
    "x-request-id-header": _echo(401, body=lambda _: {"error": {"message": "unauthorized"}},
                                 headers=lambda a: {"x-request-id": a}),
    "x-nebius-request-id-header": _echo(404, text=lambda _: "no route",
                                        headers=lambda a: {"x-nebius-request-id": f"req-1 {a}"}),
    "bare-token-no-scheme": _echo(403, text=lambda a: f"token {a.split()[-1]} lacks scope endpoints:write"),
    "upper-cased-echo": _echo(401, body=lambda a: {"detail": f"TOKEN {a.split()[-1].upper()} IS NOT VALID"}),
    "token-wrapped-across-lines": _echo(401, text=lambda a: f"denied: token {a.split()[-1][:16]}\r\n"
                                                            f"{a.split()[-1][16:]} is not valid"),
    "json-detail-wrapped": _echo(401, body=lambda a: {"detail": f"token {a.split()[-1][:10]}\n  {a.split()[-1][10:]}"}),
    "rate-limited-echo": _echo(429, body=lambda a: {"error": {"message": f"slow down, {a}"}},
                               headers=lambda a: {"retry-after": "0", "request-id": a}),
}


@pytest.mark.parametrize("case", HOSTILE_ANSWERS, ids=list(HOSTILE_ANSWERS))
def test_an_echoed_token_reaches_no_error_text(case: str) -> None:
    client = _client(HOSTILE_ANSWERS[case])
    with pytest.raises(errors.APIStatusError) as info:
        client.create_endpoint(SPEC)
    exc = info.value
    texts = {"str": str(exc), "repr": repr(exc), "message": exc.message, "request_id": exc.request_id or "",
             "args": repr(exc.args)}
    leaks = {where: leaked_forms(text) for where, text in texts.items() if leaked_forms(text)}
    assert leaks == {}, f"{case}: the token leaked: {leaks}\n{exc}"
    assert f"HTTP {exc.status_code}" in str(exc) and "POST /v0/dedicated_endpoints" in str(exc)


def test_the_rest_of_the_answer_is_kept() -> None:
    """Scrubbing removes the credential, not the message a person needs."""
    client = _client(_echo(401, body=lambda a: {"error": {"message": f"token rejected: {a}", "request_id": a}},
                           headers=lambda a: {"x-request-id": f"req-77 {a}"}))
    with pytest.raises(errors.AuthenticationError) as info:
        client.list_endpoints()
    assert info.value.message == f"token rejected: Bearer {REDACTED}"
    assert info.value.request_id == f"req-77 Bearer {REDACTED}"


def test_a_2xx_body_that_is_not_json_does_not_leak_its_request_id() -> None:
    client = _client(lambda r: httpx.Response(200, text="<html>oops</html>",
                                              headers={"x-request-id": r.headers["authorization"]}))
    with pytest.raises(errors.UnexpectedResponseError) as info:
        client.list_endpoints()
    assert leaked_forms(str(info.value)) == [], str(info.value)


def test_retry_log_lines_do_not_leak(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([
        httpx.Response(503, text=f"upstream saw Authorization: Bearer {TOKEN}", headers={"x-request-id": TOKEN}),
        httpx.Response(200, json={"endpoints": []}),
    ])
    client = _client(lambda _r: next(answers), max_attempts=3, backoff_initial=0.0, backoff_max=0.0)
    with caplog.at_level(logging.DEBUG):
        assert client.list_endpoints() == []
    assert "retrying GET" in caplog.text
    assert leaked_forms(caplog.text) == [], caplog.text


def test_a_base64_dump_wrapped_across_lines_leaks_no_part_of_the_token() -> None:
    """A gateway quoting the request as MIME base64 (lines of 76) may break the token's encoding across a line;
    joined again (as the body excerpt joins lines) it would decode to the token."""
    def dump(request: httpx.Request) -> httpx.Response:
        raw = f"GET / HTTP/1.1\r\nAuthorization: {request.headers['authorization']}\r\n\r\n".encode()
        return httpx.Response(400, text=f"bad request; it was, in base64:\n{base64.encodebytes(raw).decode()}")
    with pytest.raises(errors.APIStatusError) as info:
        _client(dump).list_endpoints()
    text = str(info.value)
    assert leaked_forms("".join(text.split())) == [], text


def test_an_answer_echoing_the_token_in_its_fields_yields_values_without_it(caplog: pytest.LogCaptureFixture) -> None:
    """A 2xx answer is read into models whose values reach the state, progress lines, logs and console output:
    a field (or key) that echoes the token must not carry it there."""
    endpoint = {"id": "ep-1", "name": "n", "model_name": "m", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
                "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 1}, "region": "eu-north1",
                "routing_key": "dedicated/m-1", "deployment": {"status": "running", "readiness": "ready"}}

    def answer(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        return httpx.Response(200, json={"data": [
            {**endpoint, "description": f"created with {auth}", "deployment": {"status": TOKEN, "readiness": "ready"},
             auth: "echoed header"},
            {"name": f"unreadable {TOKEN}", "scaling": "none"},  # skipped with a log line naming it
        ]})

    with caplog.at_level(logging.DEBUG):
        listed = _client(answer).list_endpoints()
    assert [e.id for e in listed] == ["ep-1"] and listed[0].description == f"created with Bearer {REDACTED}"
    texts = {"endpoints": json.dumps([e.model_dump() for e in listed]), "unreadable": repr(listed.malformed),
             "log": caplog.text}
    assert "cannot read" in caplog.text
    leaks = {where: leaked_forms(text) for where, text in texts.items() if leaked_forms(text)}
    assert leaks == {}, f"the token leaked: {leaks}\n{texts}"


def test_a_transport_failure_names_no_secret() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}")
    with pytest.raises(errors.TransportError) as info:
        _client(refuse).list_endpoints()
    assert leaked_forms(str(info.value)) == [] and "ConnectError" in str(info.value)


# --------------------------------------------------------------------------- the redactor itself


#: A token with the characters URL, JSON and HTML escaping change.
SYMBOL_TOKEN = 'tfk+CANARY/sym="4f0d9a2c55e3"&<b>\\='


@pytest.mark.parametrize("secret", [TOKEN, SYMBOL_TOKEN], ids=["plain", "symbols"])
def test_redactor_removes_every_encoding_and_keeps_prose(secret: str) -> None:
    redact = client_module.Redactor([secret])
    quoted = urllib.parse.quote(secret, safe="")
    echoes = [
        secret, f"Bearer {secret}", urllib.parse.quote(f"Bearer {secret}", safe=""), urllib.parse.quote_plus(secret),
        quoted.replace("%2B", "%2b").replace("%2F", "%2f"), json.dumps({"h": f"Bearer {secret}"}),
        json.dumps(secret).replace("/", "\\/"), html.escape(secret), f"Basic {_basic(secret)}",
        base64.urlsafe_b64encode(f"xy:{secret}".encode()).decode(), f"prefix{secret}suffix",
        f"Bearer {TOKEN[:14]}",  # an echo cut short by the gateway
        "Authorization: some-other-credential-1234",  # a credential we do not even hold
    ]
    for echo in echoes:
        cleaned = redact(f"error: {echo} (end)")
        assert leaked_forms(cleaned, secret) == [] and "some-other-credential" not in cleaned, (echo, cleaned)
        assert REDACTED in cleaned and cleaned.startswith("error: ") and cleaned.endswith(" (end)"), cleaned
        assert redact(cleaned) == cleaned, "redaction must be idempotent"
    for prose in ("Basic authentication is not supported", "send `Authorization: Bearer <token>`",
                  "endpoint ep-7f3a is starting", "gpu_count 3 is not offered; allowed: 1, 2, 4, 8"):
        assert redact(prose) == prose


def test_a_short_test_key_does_not_garble_messages() -> None:
    redact = client_module.Redactor(["k"])
    message = "unknown model 'openai/gpt-oss-12b'; kind regards"
    assert redact(message) == message
    assert redact("token k rejected") == f"token {REDACTED} rejected"


def test_redactor_cannot_be_pickled_or_shown() -> None:
    import pickle

    redact = client_module.Redactor([TOKEN])
    assert TOKEN not in repr(redact)
    with pytest.raises(TypeError):
        pickle.dumps(redact)


# --------------------------------------------------------------------------- credentials in the base URL


CREDENTIAL_URLS = [
    f"https://user:{PASSWORD}@api.tokenfactory.nebius.com",
    f"http://:{PASSWORD}@127.0.0.1:8080",
    f"http://{PASSWORD}@127.0.0.1:8080",
    f"https://user:{PASSWORD}@proxy.internal/tokenfactory",
    f"https://proxy.internal/tf?api_key={PASSWORD}",
    f"https://proxy.internal/tf#{PASSWORD}",
]


@pytest.mark.parametrize("url", CREDENTIAL_URLS)
def test_a_base_url_with_credentials_is_refused_without_echoing_them(url: str) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"endpoints": []})

    with pytest.raises(errors.ConfigurationError) as info:
        TokenFactoryClient(api_key=TOKEN, base_url=url, transport=httpx.MockTransport(record)).list_endpoints()
    text = str(info.value)
    assert "tokenfactory:baseUrl" in text and "Invalid Token Factory base URL" in text
    assert PASSWORD not in text and leaked_forms(text, PASSWORD) == [], text
    assert leaked_forms(text) == [] and seen == []


def test_a_base_url_with_credentials_from_the_environment_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", f"https://ops:{PASSWORD}@api.tokenfactory.nebius.com")
    with pytest.raises(errors.InvalidSettingError) as info:
        resolve_base_url(None)
    assert info.value.setting == "TOKENFACTORY_BASE_URL" and "TOKENFACTORY_BASE_URL" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_a_token_pasted_into_the_base_url_is_not_echoed() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        TokenFactoryClient(api_key=TOKEN, base_url=f"https://host/{TOKEN} x")
    assert leaked_forms(str(info.value)) == [], str(info.value)


# --------------------------------------------------------------------------- through the provider host


def _details_and_logs(host: ProviderHost, error: ProviderCallError | None = None) -> dict[str, str]:
    texts = {"stderr": host.stderr_text(), "stdout": host.stdout_text()}
    if error is not None:
        texts["grpc detail"] = error.details
    return texts


def _assert_nothing_leaked(texts: dict[str, str], secret: str = TOKEN) -> None:
    leaks = {where: leaked_forms(text, secret) for where, text in texts.items() if leaked_forms(text, secret)}
    assert leaks == {}, f"the secret leaked: {leaks}\n" + "\n".join(f"--- {k}\n{v}" for k, v in texts.items())


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.2, "delete_seconds": 0.05})



def test_create_refused_with_an_echo_keeps_the_token_out_of_the_grpc_detail(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, quiet_env: None) -> None:
    emulator.reset()
    emulator.clear_faults()
    emulator.inject_fault(method="POST", path="/v0/dedicated_endpoints", action="error", status=403,
                                body={"error": {"message": f"the token Bearer {TOKEN} may not create endpoints",
                                                "code": "forbidden", "request_id": f"Bearer {TOKEN}"}})
    with tf_account.host() as host:
        steps = tf_account.resource(host, "echo-403")
        with pytest.raises(ProviderCallError) as info:
            steps.up(PROGRAM)
        assert "may not create endpoints" in info.value.last_line and "HTTP 403" in info.value.last_line
        _assert_nothing_leaked(_details_and_logs(host, info.value))
    assert emulator.endpoints() == []


def test_a_lost_create_answer_that_echoes_the_token_is_logged_without_it(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, quiet_env: None) -> None:
    """The create path logs the lost answer to the host's stderr before looking for the endpoint."""
    emulator.reset()
    emulator.clear_faults()
    emulator.inject_fault(method="POST", path="/v0/dedicated_endpoints", action="apply_then_error", status=500,
                                body=f"<html><body>upstream error; request had Authorization: Bearer {TOKEN}"
                                     f"</body></html>")
    with tf_account.host() as host:
        steps = tf_account.resource(host, "echo-500")
        steps.up(PROGRAM)
        stderr = host.stderr_text()
        assert "the answer was lost" in stderr, f"the create path did not log the lost answer:\n{stderr}"
        _assert_nothing_leaked({**_details_and_logs(host), "outputs": json.dumps(steps.outputs)})
        steps.destroy()


class _HostileGateway:
    """A gateway in front of nothing: answers 401 to everything, quoting the Authorization header
    in a request-id header and in an HTML page (verbatim, URL-encoded, and as Basic user:token);
    only the list route answers, with no endpoints, so a bare create reaches its POST."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                gateway.requests.append(f"{self.command} {self.path}")
                auth = self.headers.get("Authorization", "")
                if self.command == "GET" and self.path == "/v0/dedicated_endpoints":
                    body, status, headers = b'{"endpoints": []}', 200, {"content-type": "application/json"}
                else:
                    token = auth.partition(" ")[2]
                    page = (f"<html><body><h1>401 Authorization Required</h1><p>{html.escape(auth)}</p>"
                            f"<p>{urllib.parse.quote(auth, safe='')}</p><p>Basic {_basic(token)}</p></body></html>")
                    body, status = page.encode(), 401
                    headers = {"content-type": "text/html", "x-request-id": auth,
                               "www-authenticate": f'Bearer realm="{auth}"'}
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the test asserts on the provider's output, not this server's."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="hostile-gateway")

    def __enter__(self) -> _HostileGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def test_a_gateway_echoing_the_header_leaks_nothing_through_check_or_create(
        provider_str: str, quiet_env: None) -> None:
    with _HostileGateway() as gateway, endpoint_host(gateway.base_url, TOKEN) as host:
        urn = make_urn(RESOURCE_TYPE, "gateway")
        with pytest.raises(ProviderCallError) as checked:
            host.check(urn, {}, {**PROGRAM, PROVIDER_KEY: provider_str})
        assert "check 'scrub': the Token Factory API refused the API key" in checked.value.last_line
        assert "HTTP 401" in checked.value.last_line and f"request id Bearer {REDACTED}" in checked.value.last_line
        with pytest.raises(ProviderCallError) as created:
            host.create(urn, {**PROGRAM, PROVIDER_KEY: provider_str})
        assert "pulumi_tokenfactory.errors.AuthenticationError" in created.value.last_line
        texts = {**_details_and_logs(host, created.value), "check detail": checked.value.details}
        _assert_nothing_leaked(texts)
        assert "POST /v0/dedicated_endpoints" in gateway.requests, gateway.requests


def test_a_list_answer_echoing_the_token_in_a_field_keeps_it_out_of_the_state(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, quiet_env: None) -> None:
    """A refresh records what the API lists: a field value that echoes the token must not reach the state."""
    emulator.reset()
    emulator.clear_faults()
    with tf_account.host() as host:
        steps = tf_account.resource(host, "echo-field")
        steps.up(PROGRAM)
        emulator.inject_fault(method="GET", path="/v0/dedicated_endpoints", action="extra_fields", count=None,
                              body={"description": f"note: Authorization: Bearer {TOKEN}", "echo": TOKEN})
        try:
            steps.refresh()
        finally:
            emulator.clear_faults()
        assert steps.outputs.get("description") == f"note: Authorization: Bearer {REDACTED}", steps.outputs
        _assert_nothing_leaked({**_details_and_logs(host), "outputs": json.dumps(steps.outputs),
                                "inputs": json.dumps(steps.inputs)})
        steps.destroy()


def test_a_base_url_with_credentials_reaches_neither_state_nor_request(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, quiet_env: None) -> None:
    """Were the URL taken, httpx would send `ops:<password>` as Basic auth and inference_base_url would keep it."""
    emulator.reset()
    port = emulator.base_url.rsplit(":", 1)[1]
    url = f"http://ops:{PASSWORD}@127.0.0.1:{port}"
    with endpoint_host(url, TOKEN) as host:
        steps = tf_account.resource(host, "userinfo")
        with pytest.raises(ProviderCallError) as info:
            steps.up(PROGRAM)
        line = info.value.last_line
        assert line.startswith("pulumi_tokenfactory.errors.InvalidSettingError"), info.value.details
        assert "tokenfactory:baseUrl" in line and "user names and passwords" in line
        texts = {**_details_and_logs(host, info.value), "outputs": json.dumps(steps.outputs)}
        _assert_nothing_leaked(texts, PASSWORD)
        _assert_nothing_leaked(texts)
    assert emulator.requests() == [], "the URL must be refused before any request"
    assert emulator.endpoints() == []
