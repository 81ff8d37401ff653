"""`tokenfactory-account api-check`: does the real API still take what this provider sends and give what it reads?

    tokenfactory-account api-check [--base-url URL]

The provider is written against a published description of the API, which the service may change
under it. This command reads the service's own schema (`<base URL>/openapi.json`, public: no token is
sent; one set in TOKENFACTORY_API_KEY is read only to keep it out of messages) and compares it with
what this provider sends and reads, operation by operation:

* the five dedicated-endpoint operations: one missing from the schema is breaking;
* the create and update requests: a field the provider sends that the schema lacks, or one the schema
  requires that the provider does not always send, is breaking; a schema field the provider never
  sends is informational;
* the answer (DedicatedEndpoint): an `id` or `routing_key` it lacks is breaking, any other field the
  provider reads a warning; the template answer (Model) likewise, as warnings;
* enums: a value the provider allows that the schema's enum lacks is breaking, one the API offers that
  the provider refuses a warning; a deployment status or readiness the provider does not recognise is
  a warning (it is quoted raw at run time);
* status codes: a create answering another 2xx than 201 is informational (the client accepts any
  2xx); a create or update without FastAPI's 422 validation answer is a warning.

What the provider sends and reads is derived from `pulumi_tokenfactory/endpoint/fields.py` (the one
declaration of the resource's fields) and `api/models.py`, never listed here, so the check follows
the provider as it changes. Schemas are found through the operations (request body, success answer,
with `{"data": [...]}` / `{"endpoint": ...}` wrappers unwrapped) and only by their published names
when an operation does not say. `$ref`, `allOf`, `anyOf` / `oneOf` (pydantic's optional fields) and
nested objects are followed.

Exit status: 1 when anything is breaking, 0 otherwise, 2 when the schema cannot be fetched or read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from .. import errors
from ..api.client import DEFAULT_TIMEOUT, ENDPOINTS_PATH, TEMPLATES_PATH, resolve_base_url
from ..api.models import Endpoint, LifecycleState, Readiness, Template, lifecycle_state, readiness_state
from ..endpoint.fields import API_FIELDS, BY_NAME, CREATE_FIELDS, UPDATABLE_FIELDS
from ..fields import Field
from ..settings import HTTP_TIMEOUT, Settings
from .messages import BASE_URL_HELP, TIMEOUT_HINT, command_parser, complain, console_message

COMMAND = "api-check"
PROG = f"tokenfactory-account {COMMAND}"
SCHEMA_PATH = "/openapi.json"
ENDPOINT_PATH = f"{ENDPOINTS_PATH}/{{endpoint_id}}"

#: The published names, used only when an operation does not name its schema.
CREATE_SCHEMA = "DedicatedEndpointCreateRequest"
UPDATE_SCHEMA = "DedicatedEndpointUpdateRequest"
ENDPOINT_SCHEMA = "DedicatedEndpoint"
TEMPLATE_SCHEMA = "Model"
#: Keys a list or single answer may wrap its items in (the forms api/models.py's parsers accept).
WRAPPERS = ("data", "endpoint", "endpoints", "dedicated_endpoints", "templates", "items")
#: The nested object the API reports the lifecycle in; the provider also reads a flat `status`.
DEPLOYMENT = "deployment"
#: How long a chain of `$ref` to `$ref` is followed: far beyond FastAPI's one step; a cycle ends there.
MAX_DEPTH = 32


class Severity(str, Enum):
    """How much a difference matters, in the order the report lists them."""

    BREAKING = "BREAKING"
    WARNING = "WARNING"
    INFO = "INFO"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    text: str


class DocumentError(Exception):
    """The schema could not be fetched or is not an OpenAPI document: the check cannot say anything."""


# -- the document ----------------------------------------------------------------------------------

def _obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else empty: a malformed part of the schema reads as absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _template(path: str) -> str:
    """`/a/{endpoint_id}` and `/a/{id}` are the same route: parameter names are not part of the contract."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


class Schema:
    """An OpenAPI document, read with every `$ref` followed and every combinator looked through."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.version = str(_obj(document.get("info")).get("version") or "version unknown")
        self._paths = {_template(path): _obj(item) for path, item in _obj(document.get("paths")).items()}

    def resolve(self, node: Any) -> tuple[dict[str, Any], str | None]:
        """The node a (chain of) local `$ref` points at, and the name of the last schema referred to.

        A reference that leads nowhere (remote, dangling, cyclic) reads as an empty schema.
        """
        name = None
        for _ in range(MAX_DEPTH):
            ref = _obj(node).get("$ref")
            if not isinstance(ref, str):
                return _obj(node), name
            name = ref.rsplit("/", 1)[-1]
            node = self._pointer(ref)
        return {}, name

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return None
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = _obj(node).get(part.replace("~1", "/").replace("~0", "~"))
        return node

    def name_of(self, node: Any) -> str | None:
        """The schema's component name, looking through an optional wrapper (`anyOf: [X, null]`)."""
        resolved, name = self.resolve(node)
        if name is not None:
            return name
        alternatives = self._alternatives(resolved)
        return self.name_of(alternatives[0]) if len(alternatives) == 1 else None

    def component(self, name: str) -> dict[str, Any] | None:
        found = _obj(_obj(self.document.get("components")).get("schemas")).get(name)
        return _obj(found) if found is not None else None

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        found = self._paths.get(_template(path), {}).get(method.lower())
        return _obj(found) if found is not None else None

    def _alternatives(self, node: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The non-null branches of `anyOf` / `oneOf` (pydantic writes `X | None` as `anyOf: [X, null]`)."""
        branches = (self.resolve(b)[0] for b in _list(node.get("anyOf")) + _list(node.get("oneOf")))
        return [b for b in branches if b.get("type") != "null" and b.get("enum") != [None]]

    def _expand(self, node: Any, seen: frozenset[int]) -> tuple[dict[str, Any], frozenset[int]] | None:
        """The resolved node and the nodes on the way to it; None when it is one of them (a schema made of itself)."""
        resolved = self.resolve(node)[0]
        return None if id(resolved) in seen else (resolved, seen | {id(resolved)})

    def _parts(self, node: Any, seen: frozenset[int] = frozenset()) -> Iterator[dict[str, Any]]:
        """The node and, recursively, every `allOf` part and non-null alternative it is made of."""
        if (expanded := self._expand(node, seen)) is None:
            return
        resolved, seen = expanded
        yield resolved
        for part in _list(resolved.get("allOf")) + self._alternatives(resolved):
            yield from self._parts(part, seen)

    def properties(self, node: Any) -> dict[str, Any]:
        """Every property the object may have, from all of its parts."""
        found: dict[str, Any] = {}
        for part in self._parts(node):
            found.update(_obj(part.get("properties")))
        return found

    def required(self, node: Any, seen: frozenset[int] = frozenset()) -> set[str]:
        """The properties the object must have: its own and its `allOf` parts', and those every alternative needs."""
        if (expanded := self._expand(node, seen)) is None:
            return set()
        resolved, seen = expanded
        names = {n for n in _list(resolved.get("required")) if isinstance(n, str)}
        for part in _list(resolved.get("allOf")):
            names |= self.required(part, seen)
        alternatives = [self.required(a, seen) for a in self._alternatives(resolved)]
        return names | set.intersection(*alternatives) if alternatives else names

    def enum(self, node: Any, seen: frozenset[int] = frozenset()) -> list[Any] | None:
        """The values a property may take, None when it is open (no enum, or an alternative without one)."""
        if (expanded := self._expand(node, seen)) is None:
            return None
        resolved, seen = expanded
        if "enum" in resolved or "const" in resolved:
            values = _list(resolved.get("enum")) + ([resolved["const"]] if "const" in resolved else [])
            return [v for v in values if isinstance(v, (str, int, float))]  # null is not a value to offer
        for part in _list(resolved.get("allOf")):
            if (constrained := self.enum(part, seen)) is not None:
                return constrained
        alternatives = [self.enum(a, seen) for a in self._alternatives(resolved)]
        if not alternatives or any(values is None for values in alternatives):
            return None
        return list(dict.fromkeys(v for values in alternatives if values for v in values))

    def lookup(self, node: Any, keys: Iterable[str]) -> Any | None:
        """The property at a path of keys (`deployment`, `status`), None where any step is missing."""
        for key in keys:
            node = self.properties(node).get(key)
            if node is None:
                return None
        return node

    def body_schema(self, holder: Any) -> Any | None:
        """The JSON schema of a request body or response (each may itself be a `$ref`)."""
        content = _obj(self.resolve(holder)[0].get("content"))
        media = content.get("application/json") or next(iter(content.values()), None)
        return _obj(media).get("schema") if media is not None else None

    def unwrap(self, node: Any) -> Any:
        """The item inside a list or wrapper answer (`{"data": [X]}`, `{"endpoint": X}`, `[X]`)."""
        for _ in range(4):
            parts = list(self._parts(node))
            items = next((p["items"] for p in parts if "items" in p and p.get("type") == "array"), None)
            if items is not None:
                node = items
                continue
            properties = self.properties(node)
            key = next((k for k in WRAPPERS if k in properties), None)
            if key is None:
                return node
            node = properties[key]
        return node


# -- what the provider sends and reads (derived, never listed) --------------------------------------

@dataclass(frozen=True)
class Sent:
    """A field a request carries: always (a required field, or one with a default), or only sometimes."""

    field: Field
    always: bool


def sent(names: Iterable[str], *, always_possible: bool) -> list[Sent]:
    """The fields of a request from the declaration; an update sends none always (only what changed).

    An optional text whose default is empty is left out of the request, as api/models.py's builders do.
    """
    return [Sent(f, always_possible and (f.required or f.default not in (None, "")))
            for f in (BY_NAME[n] for n in names)]


@dataclass(frozen=True)
class Read:
    """A field the provider reads from an answer: the keys it accepts for it and what its absence costs."""

    path: str
    #: Each accepted spelling, as a path of keys.
    keys: tuple[tuple[str, ...], ...]
    severity: Severity


def accepted_keys(model: Any, name: str) -> tuple[str, ...]:
    """The keys a response model accepts for `name` (its `AliasChoices`, else the name itself)."""
    alias = model.model_fields[name].validation_alias
    choices = getattr(alias, "choices", None)
    return tuple(c for c in choices if isinstance(c, str)) if choices else (name,)


def endpoint_reads() -> list[Read]:
    """What the provider reads from a DedicatedEndpoint: id and routing key (essential), API fields, lifecycle."""
    reads = [Read("id", tuple((k,) for k in accepted_keys(Endpoint, "id")), Severity.BREAKING),
             Read("routing_key", (("routing_key",),), Severity.BREAKING)]
    for name in API_FIELDS:
        reads.append(Read(name, ((name,),), Severity.WARNING))
        reads += [Read(f"{name}.{c.name}", ((name, c.name),), Severity.WARNING) for c in BY_NAME[name].children]
    reads += [Read(f"{DEPLOYMENT}.status", ((DEPLOYMENT, "status"), ("status",)), Severity.WARNING),
              Read(f"{DEPLOYMENT}.readiness", ((DEPLOYMENT, "readiness"),), Severity.WARNING)]
    unique: dict[str, Read] = {}
    for read in reads:
        unique.setdefault(read.path, read)  # routing_key is both essential and an API field: essential wins
    return list(unique.values())


def template_reads() -> list[Read]:
    """What the provider reads from a template (Model): its name and its flavors."""
    return [Read(name, tuple((k,) for k in accepted_keys(Template, name)), Severity.WARNING)
            for name in ("model_name", "flavors")]


# -- the checks ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    #: The published name of its request schema, when it takes a body.
    request: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


TEMPLATES = Operation("GET", TEMPLATES_PATH)
CREATE = Operation("POST", ENDPOINTS_PATH, CREATE_SCHEMA)
LIST = Operation("GET", ENDPOINTS_PATH)
UPDATE = Operation("PATCH", ENDPOINT_PATH, UPDATE_SCHEMA)
DELETE = Operation("DELETE", ENDPOINT_PATH)
OPERATIONS = (TEMPLATES, CREATE, LIST, UPDATE, DELETE)


def check_operations(schema: Schema) -> list[Finding]:
    return [Finding(Severity.BREAKING, f"{op}: the operation is missing from the schema")
            for op in OPERATIONS if schema.operation(op.method, op.path) is None]


def _success_codes(operation: Mapping[str, Any]) -> list[str]:
    return [str(code) for code in _obj(operation.get("responses")) if str(code).upper().startswith("2")]


def answer_schema(schema: Schema, op: Operation, published: str) -> tuple[Any | None, str]:
    """The item an operation's success answer carries (unwrapped), and how to name it; else the published schema."""
    operation = schema.operation(op.method, op.path) or {}
    responses = _obj(operation.get("responses"))
    codes = sorted(_success_codes(operation), key=lambda c: (c not in ("200", "201"), c))
    for code in codes:
        body = schema.body_schema(responses.get(code))
        if body is not None and schema.resolve(body)[0]:
            item = schema.unwrap(body)
            return item, schema.name_of(item) or f"the answer of {op}"
    return schema.component(published), published


def request_schema(schema: Schema, op: Operation) -> tuple[Any | None, str]:
    """The schema of an operation's JSON body, else the published one by name."""
    operation = schema.operation(op.method, op.path) or {}
    body = schema.body_schema(operation.get("requestBody"))
    if body is not None:
        return body, schema.name_of(body) or f"the body of {op}"
    published = op.request or ""
    return schema.component(published), published


def check_request(schema: Schema, op: Operation, fields: list[Sent], *, sometimes: str) -> list[Finding]:
    """Each field sent that the schema lacks, each one it requires that is not always sent, each one unused."""
    node, label = request_schema(schema, op)
    if node is None:
        return [Finding(Severity.BREAKING, f"{op}: the schema gives no request body (nor a {op.request})")]
    return _compare(schema, node, fields, f"{op} request {label}", sometimes=sometimes, prefix="")


def _compare(schema: Schema, node: Any, fields: list[Sent], where: str, *, sometimes: str,
             prefix: str) -> list[Finding]:
    properties, required = schema.properties(node), schema.required(node)
    found: list[Finding] = []
    by_name = {s.field.name: s for s in fields}
    for item in fields:
        path = prefix + item.field.name
        if item.field.name not in properties:
            found.append(Finding(Severity.BREAKING, f"{where}: lacks {path}, which the provider sends"))
        elif item.field.children:
            nested = [Sent(child, child.required) for child in item.field.children]  # sent whenever the object is
            found += _compare(schema, properties[item.field.name], nested, where, sometimes=sometimes,
                              prefix=f"{path}.")
    for name in sorted(required):
        if name not in by_name:
            found.append(Finding(Severity.BREAKING,
                                 f"{where}: requires {prefix}{name}, which the provider never sends"))
        elif not by_name[name].always:
            found.append(Finding(Severity.BREAKING,
                                 f"{where}: requires {prefix}{name}, which the provider sends only {sometimes}"))
    found += [Finding(Severity.INFO, f"{where}: has {prefix}{name}, which the provider does not send")
              for name in properties if name not in by_name]
    return found


def check_answer(schema: Schema, op: Operation, published: str, reads: list[Read]) -> list[Finding]:
    """Each field the provider reads that the answer's schema lacks (in none of its accepted spellings)."""
    node, label = answer_schema(schema, op, published)
    if node is None:
        return [Finding(Severity.WARNING, f"{op}: the schema describes no answer (nor a {published})")]
    return [Finding(read.severity, f"answer {label}: lacks {read.path}, which the provider reads")
            for read in reads if all(schema.lookup(node, keys) is None for keys in read.keys)]


def check_choices(schema: Schema) -> list[Finding]:
    """The provider's allowed values of each API field with choices against the schema's enum."""
    found: list[Finding] = []
    create, _ = request_schema(schema, CREATE)
    answer, _ = answer_schema(schema, LIST, ENDPOINT_SCHEMA)
    for field in (BY_NAME[n] for n in API_FIELDS if BY_NAME[n].limits.choices):
        node = next((n for n in (schema.lookup(create, [field.name]) if create else None,
                                 schema.lookup(answer, [field.name]) if answer else None) if n is not None), None)
        offered = schema.enum(node) if node is not None else None
        if offered is None:
            found.append(Finding(Severity.INFO, f"{field.name}: the schema lists no values (open); the provider "
                                                f"allows only {', '.join(field.limits.choices)}"))
            continue
        found += [Finding(Severity.BREAKING, f"{field.name}: the provider allows {value!r}, which the schema's enum "
                                             "lacks") for value in field.limits.choices if value not in offered]
        found += [Finding(Severity.WARNING, f"{field.name}: the provider refuses {value!r}, which the schema offers")
                  for value in offered if value not in field.limits.choices]
    return found


def check_lifecycle_enums(schema: Schema) -> list[Finding]:
    """Deployment statuses and readiness values the provider does not recognise (quoted raw at run time)."""
    answer, _ = answer_schema(schema, LIST, ENDPOINT_SCHEMA)
    found: list[Finding] = []
    for key, unknown in (("status", lambda value: lifecycle_state(value) is LifecycleState.UNKNOWN),
                         ("readiness", lambda value: readiness_state(value) is Readiness.UNKNOWN)):
        node = schema.lookup(answer, [DEPLOYMENT, key]) if answer else None
        found += [Finding(Severity.WARNING, f"{DEPLOYMENT}.{key}: the provider does not recognise {value!r} "
                                            "(it is quoted raw at run time)")
                  for value in (schema.enum(node) or []) if unknown(str(value))]
    return found


def check_status_codes(schema: Schema) -> list[Finding]:
    """The create's 201, and FastAPI's 422 on the operations that take a body."""
    found: list[Finding] = []
    create = schema.operation(CREATE.method, CREATE.path)
    if create is not None:
        codes = _success_codes(create)
        if not codes:
            found.append(Finding(Severity.WARNING, f"{CREATE}: the schema gives no success answer (201 expected)"))
        elif "201" not in codes:
            found.append(Finding(Severity.INFO, f"{CREATE}: answers {', '.join(codes)}, not 201 (the client "
                                                "accepts any 2xx)"))
    for op in (CREATE, UPDATE):
        operation = schema.operation(op.method, op.path)
        if operation is None:
            continue
        answer = _obj(operation.get("responses")).get("422")
        body = schema.body_schema(answer) if answer is not None else None
        if answer is None:
            found.append(Finding(Severity.WARNING, f"{op}: no 422 validation answer (the provider names the field "
                                                   "from FastAPI's 422 detail)"))
        elif body is not None and "detail" not in schema.properties(body):
            found.append(Finding(Severity.WARNING, f"{op}: the 422 answer has no detail (the provider names the "
                                                   "field from it)"))
    return found


def check(document: Mapping[str, Any]) -> list[Finding]:
    """Every difference between the schema and this provider, most severe first, each once."""
    schema = Schema(document)
    found = [
        *check_operations(schema),
        *check_request(schema, CREATE, sent(CREATE_FIELDS, always_possible=True),
                       sometimes="when the program sets it"),
        *check_request(schema, UPDATE, sent(UPDATABLE_FIELDS, always_possible=False), sometimes="when it changes"),
        *check_answer(schema, LIST, ENDPOINT_SCHEMA, endpoint_reads()),
        *check_answer(schema, CREATE, ENDPOINT_SCHEMA, endpoint_reads()),
        *check_answer(schema, TEMPLATES, TEMPLATE_SCHEMA, template_reads()),
        *check_choices(schema),
        *check_lifecycle_enums(schema),
        *check_status_codes(schema),
    ]
    order = list(Severity)
    return sorted(dict.fromkeys(found), key=lambda f: order.index(f.severity))


# -- fetching and the command -------------------------------------------------------------------------

#: An API schema is well under a megabyte; a base URL that serves far more (a download, a stream) is not read whole.
MAX_SCHEMA_BYTES = 32 * 1024 * 1024


def _bounded_body(response: httpx.Response, url: str) -> bytes:
    """The answer's body, read no further than `MAX_SCHEMA_BYTES` (an error answer's body is not needed at all)."""
    if not response.is_success:
        return b""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_SCHEMA_BYTES:
            raise DocumentError(f"cannot read {url}: the answer is larger than {MAX_SCHEMA_BYTES} bytes, far more "
                                "than an API schema")
    return bytes(body)


def fetch_document(url: str, *, transport: httpx.BaseTransport | None = None,
                   timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """GET the schema, with no Authorization header (it is public; a token must go nowhere it is not needed)."""
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=True,
                          headers={"User-Agent": "pulumi-tokenfactory", "Accept": "application/json"}) as http, \
                http.stream("GET", url) as response:
            content = _bounded_body(response, url)
    except httpx.TimeoutException as exc:
        raise DocumentError(f"cannot fetch {url}: no answer in time ({type(exc).__name__}); {TIMEOUT_HINT}") from None
    except httpx.HTTPError as exc:
        cause = " ".join(str(exc).split())  # one line, whatever the transport said
        raise DocumentError(f"cannot fetch {url}: {type(exc).__name__}" + (f": {cause}" if cause else "")) from None
    if not response.is_success:
        raise DocumentError(f"cannot fetch {url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser can go
        raise DocumentError(f"cannot read {url}: the answer is not JSON ({len(content)} bytes)") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise DocumentError(f"cannot read {url}: not an OpenAPI document (no 'paths' object)")
    return document


def render(findings: list[Finding], *, url: str, version: str) -> str:
    """One line per finding, grouped by severity, and a summary last."""
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    lines = [f"API schema {url} ({version}) against this provider's requests and answers"]
    lines += [f"{f.severity.value:<9} {f.text}" for f in findings]
    lines.append(f"{counts[Severity.BREAKING]} breaking, {counts[Severity.WARNING]} warning(s), "
                 f"{counts[Severity.INFO]} informational")
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """The subcommand; `transport` lets tests answer without a network."""
    parser = command_parser(PROG, __doc__)
    parser.add_argument("--base-url", help=BASE_URL_HELP)
    args = parser.parse_args(argv)
    try:
        url = resolve_base_url(args.base_url).rstrip("/") + SCHEMA_PATH
        document = fetch_document(url, transport=transport, timeout=Settings().get(HTTP_TIMEOUT))
    except errors.TokenFactoryError as failure:
        complain(PROG, console_message(failure, base_url_flag=args.base_url is not None))
        return 2
    except DocumentError as failure:
        complain(PROG, str(failure))
        return 2
    findings = check(document)
    print(render(findings, url=url, version=Schema(document).version))
    return 1 if any(f.severity is Severity.BREAKING for f in findings) else 0
