"""The DedicatedEndpoint's fields, declared once (the only list of them): name, type, kind, limits, doc.

Everything that used to restate the field set by hand is derived from `FIELDS`, when imported or
as code that `python -m devtools.generate_surface` (devtools/generate_surface.py) writes from it:

* the groups (`UPDATABLE_FIELDS`, `REPLACE_FIELDS`, `PROVIDER_OPTION_FIELDS`, `INPUT_FIELDS`,
  `OUTPUT_FIELDS`, `API_FIELDS`, `DIFFED_FIELDS`) and the defaults (`INPUT_DEFAULTS`);
* the provider's `check` (endpoint/validation.py: types, lengths, ranges, choices, formats);
* generated, the fields of the pydantic models: the API's request and response models (`Scaling`,
  `EndpointSpec`, `EndpointPatch`, `ScalingInfo`, the API fields of `Endpoint`, with the API's
  limits) and the property models (`EndpointInputs`, `EndpointState`), as base classes in
  api/_fields_generated.py and endpoint/_fields_generated.py that api/models.py and endpoint/properties.py
  inherit; the create body, the PATCH builder and the keys read back from the API follow the groups;
* generated, the program surface (endpoint/program.py: the typed constructor and its overloads,
  `DedicatedEndpointArgs`, the TypedDicts, the output getters and their docstrings) and the inputs
  and outputs tables of sdk-docs/dedicated-endpoint.md;
* the diff (endpoint/controller.py), the exactly-once fingerprint (host/creation.py);
* the emulator's request checks (emulator/validation.py), where the limits are the API's.

tests/unit/test_generated.py fails while a generated file is stale; tests/unit/test_fields.py and
tests/docs/test_docs.py check what the generated code and the reference say against `FIELDS`.

To add a field: add one `Field` to `FIELDS` (with `added=` the coming release, and `example=` a valid
value for an optional input added later), run `python -m devtools.generate_surface`, then write what
the provider does with it beyond sending, diffing and keeping it, if anything. No other source file
lists the fields, and no test does: the tests' one copy of the published schema
(tests/harness/published.py) says what the API publishes, and the API-check and emulator tests fail
until the field is there too (measured with an invented optional in-place text: 2 lines here, a
regenerate, 3 lines there).

No heavy imports (no pydantic, no httpx): a Pulumi program imports this on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..fields import Field, Kind, Limits

# -- regions and defaults -------------------------------------------------------------------------

#: The regions the API publishes (its create request requires one; it cannot be updated).
REGIONS: Final[tuple[str, ...]] = (
    "eu-north1", "us-central1", "eu-west1", "me-west1", "uk-south1", "tf-us1", "tf-us2", "tf-ca1")
#: The one region default (stack config `tokenfactory:region` overrides it in a program).
DEFAULT_REGION: Final = "eu-north1"
#: The OpenAI-compatible base URL of each region: eu-north1 on the main host, the rest on regional hosts.
INFERENCE_BASE_URLS: Final[Mapping[str, str]] = {
    region: "https://api.tokenfactory.nebius.com/v1/" if region == DEFAULT_REGION
    else f"https://api.tokenfactory.{region}.nebius.com/v1/"
    for region in REGIONS}
#: The GPU types the API publishes for `gpu_type` (a template offers some of them).
GPU_TYPES: Final[tuple[str, ...]] = (
    "gpu-l40s-d", "gpu-l40s-a", "gpu-h100-sxm", "gpu-h200-sxm", "gpu-b200-sxm", "gpu-b200-sxm-a", "gpu-b300-sxm")
#: Generous by default: the API documents 10 to 15 minutes for a cold start.
DEFAULT_READY_TIMEOUT_SECONDS: Final = 1800
MAX_READY_TIMEOUT_SECONDS: Final = 24 * 3600
#: Far above any real endpoint, low enough to catch a typo (or 1e20) before the API does.
MAX_REPLICAS: Final = 1000
MAX_GPU_COUNT: Final = 64
#: The API's published limits.
NAME_MAX_LENGTH: Final = 100
DESCRIPTION_MAX_LENGTH: Final = 500
ROUTING_KEY_PREFIX: Final = "dedicated/"
ROUTING_KEY_MIN_LENGTH: Final = 11
ROUTING_KEY_MAX_LENGTH: Final = 128
#: What `custom_weights_id` is sent as to clear it (the API's own word).
UNSET: Final = "UNSET"
#: Model, flavor and GPU type names: far longer than any the catalogue has.
IDENTIFIER_MAX_LENGTH: Final = 256

ADOPT_FIELD: Final = "adopt_id"
PROJECT_FIELD: Final = "project_id"
SCALING_FIELD: Final = "scaling"

_TEXT_RULES = ("no control characters, line or paragraph separators, bidirectional controls or invisible "
               "formatting characters")

# -- the declaration --------------------------------------------------------------------------------

SCALING_CHILDREN: Final[tuple[Field, ...]] = (
    Field("min_replicas", int, Kind.IN_PLACE, required=True,
          limits=Limits(minimum=1, maximum=MAX_REPLICAS, provider_max=True),
          doc="Replicas kept running (and billed) at all times while the endpoint is enabled.",
          output_doc="Replicas kept running, as the API reports them."),
    Field("max_replicas", int, Kind.IN_PLACE, required=True,
          limits=Limits(minimum=1, maximum=MAX_REPLICAS, provider_max=True),
          doc="Upper bound for autoscaling (>= min_replicas)."),
)

FIELDS: Final[tuple[Field, ...]] = (
    Field("name", str, Kind.IN_PLACE, required=True,
          limits=Limits(min_length=1, max_length=NAME_MAX_LENGTH),
          doc=f"Display name, 1 to {NAME_MAX_LENGTH} characters on one line ({_TEXT_RULES}).",
          reference="Display name, on one line: no control characters (no line breaks or tabs either), line or "
                    "paragraph separators (U+2028, U+2029), bidirectional controls (U+202A-U+202E, U+2066-U+2069) or "
                    "invisible formatting characters such as zero-width spaces. A zero-width joiner or non-joiner "
                    "between two visible characters (emoji sequences, Persian) is allowed."),
    Field("description", str, Kind.IN_PLACE, default="",
          limits=Limits(max_length=DESCRIPTION_MAX_LENGTH, multiline=True),
          doc="Free text, e.g. the owning team; line breaks and tabs allowed.",
          reference="Free text, e.g. the owning team. Line breaks (`\\n`) and tabs are allowed; other control "
                    "characters, line and paragraph separators, bidirectional controls and invisible formatting "
                    "characters are refused as in `name`.",
          output_doc="Description (`\"\"` when none)."),
    Field("model_name", str, Kind.REPLACE, required=True,
          limits=Limits(min_length=1, max_length=IDENTIFIER_MAX_LENGTH, provider_max=True),
          doc="Model template, e.g. openai/gpt-oss-120b (see get_templates()).",
          reference="Model template, e.g. `openai/gpt-oss-120b`. Must be in the template catalogue."),
    Field("flavor_name", str, Kind.REPLACE, required=True,
          limits=Limits(min_length=1, max_length=IDENTIFIER_MAX_LENGTH, provider_max=True),
          doc="Template flavor, e.g. base or fast.",
          reference="Template flavor, e.g. `base` or `fast`. Must be a flavor of `model_name`."),
    Field("gpu_type", str, Kind.IN_PLACE, required=True, redeploys=True, change_note="the replicas restart",
          limits=Limits(choices=GPU_TYPES, format="a published GPU type"),
          doc="A GPU type the flavor offers, e.g. gpu-h100-sxm; a change restarts the replicas on the new GPUs.",
          reference="A GPU type the flavor offers. A change keeps the endpoint, its id and its routing key, and "
                    "restarts the replicas on the new GPUs; see [Changing GPUs](#changing-gpus)."),
    Field("gpu_count", int, Kind.IN_PLACE, required=True, redeploys=True, change_note="the replicas restart",
          limits=Limits(minimum=0, maximum=MAX_GPU_COUNT, provider_max=True),
          doc="GPUs per replica, one of the counts the flavor offers; a change restarts the replicas.",
          reference="GPUs per replica: one of the counts the flavor offers. A change restarts the replicas, as for "
                    "`gpu_type`."),
    Field(SCALING_FIELD, dict, Kind.IN_PLACE, required=True, children=SCALING_CHILDREN, redeploys=True,
          doc="Replica bounds: min_replicas (billed while enabled) and max_replicas.",
          reference="Replica bounds: a `ScalingArgs`, a dict with the same keys (`ScalingArgsDict`), or an `Output` "
                    "of either. See [Supporting types](#supporting-types).",
          output_doc="The replica bounds as the API reports them (`ScalingOutput`: attributes, and also a dict). See "
                     "[Supporting types](#supporting-types)."),
    Field("region", str, Kind.REPLACE, default=DEFAULT_REGION,
          limits=Limits(choices=REGIONS, format="a Token Factory region"),
          doc="Where the endpoint runs; also decides inference_base_url.",
          reference="Where the endpoint runs. Always sent: the API requires it. Also decides `inference_base_url`.",
          default_doc=f"config `tokenfactory:region`, else `{DEFAULT_REGION}`",
          output_doc="Region the endpoint runs in."),
    Field("enabled", bool, Kind.IN_PLACE, default=True, on_create=False, redeploys=True,
          doc="False stops the endpoint without deleting it (a stopped endpoint is not billed).",
          reference="`false` stops the endpoint without deleting it; a stopped endpoint is not billed. The create "
                    "request has no such field: an endpoint declared with `enabled=False` is created, then stopped "
                    "with one `PATCH`.",
          output_doc="Whether the endpoint is enabled (running or starting) rather than stopped."),
    Field("routing_key", str, Kind.IN_PLACE, computed=True, added="0.3.0", example="dedicated/given-key",
          limits=Limits(pattern=rf"{ROUTING_KEY_PREFIX}[!-~]{{{ROUTING_KEY_MIN_LENGTH - len(ROUTING_KEY_PREFIX)},"
                                rf"{ROUTING_KEY_MAX_LENGTH - len(ROUTING_KEY_PREFIX)}}}",
                        format=f"a routing key: {ROUTING_KEY_MIN_LENGTH} to {ROUTING_KEY_MAX_LENGTH} printable "
                               f"characters without spaces, starting with {ROUTING_KEY_PREFIX!r}"),
          doc="The model identifier for inference calls. Set it to choose one (changes in place); left out, the "
              "provider chooses dedicated/<model_name>-<suffix> when the endpoint is created and keeps it.",
          reference="The `model` of inference calls: 11 to 128 printable characters without spaces, starting with "
                    "`dedicated/`. Routing keys are unique. Left out, the provider chooses "
                    "`dedicated/<model_name>-<suffix>` before the create and keeps it; see "
                    "[Routing key](#routing-key). A change moves the endpoint to the new key: callers must use the "
                    "new one.",
          default_doc="`None`: the provider chooses one",
          output_doc="The model identifier for inference calls, e.g. `dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3`: "
                     "the program's `routing_key`, or the one the provider chose (see [Routing key](#routing-key)). "
                     "Pass it as `model`."),
    Field("custom_weights_id", str, Kind.IN_PLACE, added="0.3.0", clear_with=UNSET, redeploys=True,
          example="model-artifact_given",
          change_note="the replicas restart",
          limits=Limits(min_length=1, max_length=IDENTIFIER_MAX_LENGTH, provider_max=True),
          doc="Fine-tuned weights held by Token Factory (ids start with model-artifact_; a beta enabled on "
              "request). Removing it serves the template's own weights again.",
          reference="Fine-tuned weights held by Token Factory (ids start with `model-artifact_`; a beta enabled on "
                    "request). Removing it from the program clears it (the provider sends `\"UNSET\"`): the endpoint "
                    "serves the template's own weights again.",
          output_doc="The fine-tuned weights the endpoint serves; `None` when it serves the template's own."),
    Field("wait_for_ready", bool, Kind.PROVIDER_ONLY, default=True,
          doc="Wait until the endpoint is ready (or stopped) before the step finishes.",
          reference="Wait until the endpoint is ready (readiness `ready`), or stopped if `enabled` is false, before "
                    "the step finishes."),
    Field("ready_timeout", float, Kind.PROVIDER_ONLY, default=DEFAULT_READY_TIMEOUT_SECONDS,
          limits=Limits(minimum=1, maximum=MAX_READY_TIMEOUT_SECONDS, unit="seconds"),
          doc="Seconds to wait for readiness or for a delete."),
    # Not diffed: it only steers how a create or update waits, so changing it alone is no update.
    Field("wait_for_inference", bool, Kind.PROVIDER_ONLY, default=False, diffed=False, added="0.2.0",
          change_note="read by the create or update that waits",
          doc="Also wait, after running, until a real inference call on the routing key stops answering 404 "
              "(create, enable, min_replicas rise, new GPUs or weights); each try is one 1-token completion. Needs "
              "wait_for_ready.",
          reference="After readiness `ready`, also wait until one real chat completion on `routing_key` stops "
                    "answering 404, on create and on updates that start replicas (enabling, a higher `min_replicas`, "
                    "new GPUs or weights), so that dependents never see a 404ing endpoint. Needs "
                    "`wait_for_ready=True`. Each try is one billed 1-token completion; see "
                    "[Waiting for inference](#waiting-for-inference)."),
    Field(ADOPT_FIELD, str, Kind.PROVIDER_ONLY, diffed=False, change_note="read only when the resource is created",
          limits=Limits(pattern=r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}",
                        format="the id of an existing endpoint, e.g. 'ep-0a1b2c3d', as the Token Factory "
                               "console or `tokenfactory-adopt` shows it"),
          doc="The id of an existing endpoint that the create takes over instead of creating one (no POST).",
          reference="The id of an existing endpoint (`ep-...`) that the create takes over instead of buying a new "
                    "one: no POST, the in-place settings PATCHed to the program's. See "
                    "[Adopt an existing endpoint](#adopt-an-existing-endpoint).",
          output_doc="The endpoint id this resource took over when it was created, if it adopted one."),
    # -- outputs --
    Field("status", str, Kind.COMPUTED, default="unknown",
          doc="The deployment's lifecycle state when last read (starting, running, updating, stopping, stopped, "
              "error, warning; another value is kept as the API said it).",
          reference="The deployment's lifecycle state when last read: see [Lifecycle states](#lifecycle-states)."),
    Field("readiness", str, Kind.COMPUTED, added="0.3.0",
          doc="Whether the endpoint serves traffic when last read: ready, partially_ready or not_ready (the API "
              "says to decide on traffic by readiness, not status).",
          reference="Whether the endpoint serves traffic when last read: `ready`, `partially_ready` or `not_ready` "
                    "(`None` when the API reported none). The API says to decide on traffic by readiness, not by "
                    "`status`; waiting for ready means readiness `ready`."),
    Field("inference_base_url", str, Kind.COMPUTED, default="",
          doc="OpenAI-compatible base URL, ending in /v1/.",
          reference="OpenAI-compatible base URL of the endpoint's region, ending in `/v1/`, e.g. "
                    "`https://api.tokenfactory.nebius.com/v1/` (see the table below)."),
    Field(PROJECT_FIELD, str, Kind.COMPUTED, default="", added="0.4.0",
          doc="The Token Factory project the endpoint belongs to (the ai_project_id of its calls, from "
              "tokenfactory:projectId or TOKENFACTORY_PROJECT_ID); empty: the API key's default project.",
          reference="The Token Factory project the endpoint belongs to: the `ai_project_id` its calls send, from "
                    "`tokenfactory:projectId` or `TOKENFACTORY_PROJECT_ID`; `\"\"` for the API key's default "
                    "project. A refresh, update or delete under another project is refused: there the endpoint "
                    "would look deleted."),
    Field("created_at", str, Kind.COMPUTED,
          doc="Creation time reported by the API (ISO 8601)."),
    Field("updated_at", str, Kind.COMPUTED,
          doc="Last update time, when the API reports one (ISO 8601)."),
    # -- spend outputs (computed by pulumi_tokenfactory/spend.py from the state) --
    Field("reserved_gpus", int, Kind.COMPUTED, default=0, added="0.2.0",
          doc="GPUs reserved (and billed) whatever the traffic: min_replicas x gpu_count while enabled, 0 when "
              "stopped.",
          reference="GPUs reserved (and billed) whatever the traffic: `min_replicas` x `gpu_count` while enabled, `0` "
                    "when stopped. See [GPU spend](spend.md)."),
    Field("max_gpus", int, Kind.COMPUTED, default=0, added="0.2.0",
          doc="GPUs the endpoint may run under load: max_replicas x gpu_count.",
          reference="GPUs the endpoint may run under load: `max_replicas` x `gpu_count`."),
    Field("hourly_cost_min", float, Kind.COMPUTED, added="0.2.0",
          doc="Hourly cost of reserved_gpus, with a price for gpu_type in tokenfactory:gpuHourlyPrices.",
          reference="Hourly cost of `reserved_gpus`, when `tokenfactory:gpuHourlyPrices` has a price for `gpu_type`; "
                    "else `None` (no cost is invented)."),
    Field("hourly_cost_max", float, Kind.COMPUTED, added="0.2.0",
          doc="Hourly cost at max_replicas (0 when stopped), with a price in tokenfactory:gpuHourlyPrices.",
          reference="Hourly cost at `max_replicas` (`0` when stopped), under the same condition; else `None`."),
    Field("cost_currency", str, Kind.COMPUTED, added="0.2.0",
          doc="The currency of the hourly costs, from tokenfactory:gpuHourlyPrices.",
          reference="The currency of both costs, from `tokenfactory:gpuHourlyPrices`; `None` without a price."),
)

BY_NAME: Final[Mapping[str, Field]] = {f.name: f for f in FIELDS}
SCALING_BY_NAME: Final[Mapping[str, Field]] = {f.name: f for f in SCALING_CHILDREN}


def field_named(name: str) -> Field:
    """The declaration of `name` (`scaling.min_replicas` reaches into the nested object)."""
    top, _, sub = name.partition(".")
    return SCALING_BY_NAME[sub] if sub and top == SCALING_FIELD else BY_NAME[name]


def _names(*kinds: Kind) -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.kind in kinds)


# -- derived groups ------------------------------------------------------------------------------

#: Inputs whose change the API can apply in place with PATCH.
UPDATABLE_FIELDS: Final = _names(Kind.IN_PLACE)
#: Inputs the API cannot change: a different value means a new endpoint.
REPLACE_FIELDS: Final = _names(Kind.REPLACE)
#: Inputs that only steer the provider; they never reach the API.
PROVIDER_OPTION_FIELDS: Final = _names(Kind.PROVIDER_ONLY)
INPUT_FIELDS: Final = UPDATABLE_FIELDS + REPLACE_FIELDS + PROVIDER_OPTION_FIELDS
#: What the state reports besides the inputs: the computed outputs and the inputs the API fills in.
OUTPUT_FIELDS: Final = tuple(f.name for f in FIELDS if f.kind is Kind.COMPUTED or f.computed)
#: What the API knows, in declaration order (PATCH takes the in-place ones).
API_FIELDS: Final = _names(Kind.IN_PLACE, Kind.REPLACE)
#: The create request's fields.
CREATE_FIELDS: Final = tuple(name for name in API_FIELDS if BY_NAME[name].on_create)
REQUIRED_INPUTS: Final = tuple(f.name for f in FIELDS if f.is_input and f.required)
#: What diff compares (every input but those read only at create, such as adopt_id).
DIFFED_FIELDS: Final = tuple(name for name in INPUT_FIELDS if BY_NAME[name].diffed)
#: What an optional input is when the program leaves it out (None-default inputs are absent instead).
INPUT_DEFAULTS: Final[Mapping[str, Any]] = {
    f.name: f.default for f in FIELDS if f.is_input and not f.required and f.default is not None}
#: Inputs that are absent, not filled in, when not given (kept out of the state; old states stay as they were):
#: those whose default is None, and those added after the first release.
ABSENT_WHEN_UNSET: Final = tuple(f.name for f in FIELDS if f.is_input and not f.required
                                 and (f.default is None or f.added is not None))
SCALING_FIELDS: Final = tuple(f.name for f in SCALING_CHILDREN)

#: How the reference docs and the program's docstrings say what a change does.
KIND_WORDS: Final[Mapping[Kind, str]] = {
    Kind.IN_PLACE: "Changes in place",
    Kind.REPLACE: "replaces the endpoint",
    Kind.PROVIDER_ONLY: "Provider option",
}

