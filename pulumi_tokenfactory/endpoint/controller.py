"""The lifecycle of a dedicated endpoint: check, diff, create, read, update, delete, on typed values.

`adapter.EngineAdapter` turns the engine's property bags into `EndpointInputs` and `EndpointState`
and back, and adds the spend lines; this module only decides what to ask the API and what to
record. It lives apart from `provider.DedicatedEndpointProvider` (the object Pulumi pickles into
the state) so that a Pulumi program never imports httpx, pydantic or this logic; the provider host
loads it on the first call. Everything live (settings, the HTTP client, caches) is built once per
host process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.dynamic import DiffResult
from pydantic import ValidationError

from .. import errors
from ..api.client import TokenFactoryClient
from ..api.models import Endpoint, EndpointPatch, MalformedItem, Template, first_problem
from ..host import routingkey
from ..host.creation import ExactlyOnceCreator, twin_failure
from ..host.directory import EndpointDirectory
from ..host.enginelog import EngineLog, engine_address
from ..host.waiting import PollSchedule, Waiter, describe_deployment
from ..settings import HOST_WIDENING, HTTP_TIMEOUT, Settings
from ..wire import contains_unknown as _contains_unknown
from .adoption import AdoptionClaims, describe_patch, mismatches, planned_patch, unadoptable
from .fields import (
    ADOPT_FIELD,
    BY_NAME,
    DEFAULT_READY_TIMEOUT_SECONDS,
    DIFFED_FIELDS,
    OUTPUT_FIELDS,
    PROJECT_FIELD,
    REPLACE_FIELDS,
)
from .properties import EndpointInputs, EndpointState
from .readiness import ReadinessGate, starts_replicas
from .validation import CheckOutcome, check_inputs

#: A refresh may answer from a list fetched this recently (one list call serves many reads).
READ_MAX_AGE_SECONDS = 2.0
#: Checks of new resources in one preview share a list this recent to look for duplicates.
CHECK_LIST_MAX_AGE_SECONDS = 10.0


#: In-place fields whose change moves the deployment (replicas start or stop): an update waits for it.
_REDEPLOYING = frozenset(name for name, f in BY_NAME.items() if f.redeploys)


#: Lines for the resource row of `pulumi preview`/`up` (spend, wait progress): `logging` and `pulumi.log`
#: in the host reach only the Stack row, or nothing (see enginelog).
ENGINE_LOG = EngineLog(engine_address())


@dataclass
class _Session:
    """What the provider builds once per process: the client and the caches that share it."""

    client: TokenFactoryClient
    directory: EndpointDirectory
    """Polled by waiters; shared by every create, update and delete that waits."""
    reads: EndpointDirectory
    """Serves refresh: kept apart so a read never answers from a poll made before a change elsewhere."""
    existing: EndpointDirectory
    """Serves the duplicate check of new resources; this process's own creates are excluded by id,
    so it is not invalidated by them and one list serves a whole preview."""
    settings: Settings
    creator: ExactlyOnceCreator = field(init=False)
    waiter: Waiter = field(init=False)
    gate: ReadinessGate = field(init=False)
    """Probes inference after `running` for `wait_for_inference`, at the waiter's backoff."""
    adoptions: AdoptionClaims = field(default_factory=AdoptionClaims)
    """Which declaration named which endpoint in `adopt_id`, as the checks of this process saw them."""

    def __post_init__(self) -> None:
        self.creator = ExactlyOnceCreator(self.client, on_change=self.changed)
        self.waiter = Waiter(self.directory, progress=ENGINE_LOG.progress, settings=self.settings)
        self.gate = ReadinessGate(self.client, schedule=PollSchedule.from_settings(self.settings),
                                  progress=ENGINE_LOG.progress, lend_threads=self.settings.get(HOST_WIDENING))

    def changed(self) -> None:
        """Called after every change this process makes: no cached view may outlive it."""
        self.directory.invalidate()
        self.reads.invalidate()

    def state(self, endpoint: Endpoint, fallback: Mapping[str, Any]) -> EndpointState:
        """The state of `endpoint` as this client sees it (its base URL's inference URL, its project)."""
        return EndpointState.from_endpoint(endpoint, fallback, self.client.base_url, self.client.project_id)


#: A forced replacement is checked as a new resource: what a found duplicate may then be, and the way to one.
_FORCED_REPLACEMENT = (
    "If this is a replacement Pulumi forces (`pulumi up --replace`, `replace_with`), that endpoint is this "
    "resource's own: the engine checks a forced replacement without the resource's state, so the provider cannot "
    "tell it from a leftover and refuses it. For a new endpoint, declare the resource under a new name with a new "
    "`name` (one `pulumi up` creates the new endpoint, then deletes the old one)")


class EndpointController:
    """Works on typed models; `adapter.EngineAdapter` hands it what the engine sent."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.settings = Settings(dict(config))
        self._lock = threading.Lock()
        self._session: _Session | None = None
        self._templates: list[Template] | None = None
        #: The endpoint each resource (by URN) had when diff saw it: a replacement's second check (the engine
        #: sends it no olds) must not take the endpoint it replaces for a twin or the holder of its key.
        self._diffed_ids: dict[str, str] = {}

    def _api(self) -> _Session:
        with self._lock:
            if self._session is None:
                timeout = self.settings.get(HTTP_TIMEOUT)
                client = TokenFactoryClient(settings=self.settings, timeout=timeout)
                self._session = _Session(client, directory=EndpointDirectory(client),
                                         reads=EndpointDirectory(client), existing=EndpointDirectory(client),
                                         settings=self.settings)
            return self._session

    def _template_catalogue(self) -> list[Template]:
        """Fetched at most once per provider process, however many resources are checked."""
        session = self._api()
        with self._lock:
            if self._templates is None:
                try:
                    self._templates = session.client.list_templates()
                except (errors.ConfigurationError, errors.AuthenticationError):
                    raise  # the key or the URL, not the catalogue: said as such
                except errors.TokenFactoryError as exc:
                    raise errors.TokenFactoryError(
                        f"Could not fetch the template catalogue to validate the endpoint's model, flavor "
                        f"and GPU: {exc}") from None
            return self._templates

    def check(self, olds: dict[str, Any], news: dict[str, Any], urn: str | None) -> CheckOutcome:
        """The checked inputs (defaults filled, the routing key settled) and what is wrong with them."""
        outcome = check_inputs(news, templates=self._template_catalogue)
        if not outcome.failures:
            routingkey.settle(olds, outcome.inputs, urn)
        if not olds and not outcome.failures and not any(_contains_unknown(v) for v in outcome.inputs.values()):
            inputs = EndpointInputs.from_props(outcome.inputs)
            if inputs.adopt_id:
                # About to adopt: say now, in preview, whether it can be, and what it will change.
                for prop, reason in self._adoption_problems(inputs, urn):
                    outcome.fail(prop, reason)
            else:
                # About to be created: say now, in preview, if that would duplicate an existing endpoint.
                spec = inputs.spec()
                api = self._api()
                listed = api.existing.snapshot(max_age=CHECK_LIST_MAX_AGE_SECONDS).values()
                replaced = self._diffed_ids.get(urn) if urn else None
                duplicate = twin_failure(spec, [e for e in listed
                                                if not api.creator.accounts_for(e) and e.id != replaced])
                if duplicate:
                    outcome.fail("name", f"{duplicate}. {_FORCED_REPLACEMENT}")
        return outcome

    def _adoption_problems(self, inputs: EndpointInputs, urn: str | None) -> list[tuple[str, str]]:
        """Why `inputs.adopt_id` cannot be adopted as declared ([] when it can; then the plan is logged, with a
        warning when the endpoint's routing key says this provider created it for another resource)."""
        assert inputs.adopt_id is not None
        api = self._api()
        endpoint = api.existing.snapshot(max_age=CHECK_LIST_MAX_AGE_SECONDS).get(inputs.adopt_id)
        if endpoint is None:
            try:
                endpoint = api.client.get_endpoint(inputs.adopt_id)
            except errors.NotFoundError:
                return [(ADOPT_FIELD, f"no endpoint {inputs.adopt_id} in this account (as the API key sees it); "
                                      f"check the id in the Token Factory console, or remove adopt_id to create "
                                      f"a new endpoint")]
        problems = mismatches(endpoint, inputs) + [(ADOPT_FIELD, p) for p in [unadoptable(endpoint)] if p]
        if api.adoptions.conflict(endpoint.id, inputs.input_props()):
            problems.append((ADOPT_FIELD, f"another resource of this stack adopts endpoint {endpoint.id} too; an "
                                          f"endpoint can belong to one resource only"))
        if not problems:
            change = describe_patch(endpoint, planned_patch(endpoint, inputs))
            ENGINE_LOG.progress(f"adopt {inputs.name!r}: takes over the existing endpoint {endpoint.id} "
                                f"({endpoint.status or 'no status reported'}) instead of creating one (no POST); "
                                f"it will change {change}")
            if routingkey.made_for_another(endpoint.routing_key, inputs.input_props(), urn):
                ENGINE_LOG.progress(
                    f"adopt {inputs.name!r}: warning: endpoint {endpoint.id}'s routing key {endpoint.routing_key} was "
                    f"chosen by pulumi-tokenfactory for another resource. If a stack still manages the endpoint "
                    f"there, both resources would change it and either's `pulumi destroy` would delete it: remove "
                    f"it from that stack first (`pulumi state delete URN`)")
        return problems

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any], urn: str | None) -> DiffResult:
        if urn:
            with self._lock:
                self._diffed_ids[urn] = id_
        adopt_id = news.get(ADOPT_FIELD)
        if isinstance(adopt_id, str) and adopt_id and adopt_id != id_:
            raise errors.ConfigurationError(
                f"adopt_id names endpoint {adopt_id}, but this resource already manages endpoint {id_}; adopt_id "
                f"only takes effect when the resource is created. Remove it (or set it to {id_!r}); to manage "
                f"{adopt_id} as well, declare another resource with adopt_id={adopt_id!r}")
        changed = [prop for prop in DIFFED_FIELDS
                   if _contains_unknown(news.get(prop)) or routingkey.differs(prop, olds, news)]
        replaces = [prop for prop in changed if prop in REPLACE_FIELDS]
        # A replacement that keeps the routing key (set by the program, or a replace_on_changes of an in-place
        # field) cannot exist beside the old endpoint, which holds the key until it is deleted.
        key = news.get(routingkey.ROUTING_KEY)
        keeps_key = isinstance(key, str) and bool(key) and key == olds.get(routingkey.ROUTING_KEY)
        # A key the program sets that is unknown in preview (the model, flavor and region known: our own key
        # would be) may turn out the same: the preview plans the delete first, the order that costs a service
        # its endpoint, rather than promise an overlap `up` may not make.
        may_keep_key = bool(replaces) and _contains_unknown(key) and \
            not any(_contains_unknown(news.get(prop)) for prop in REPLACE_FIELDS)
        # No `stables`: the Python dynamic host drops them and the engine (v3.274) never reads them, so the
        # preview of an output that is not an input stays unknown (sdk-docs/dedicated-endpoint.md says which).
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=keeps_key or may_keep_key)

    def create(self, inputs: EndpointInputs) -> tuple[str, EndpointState]:
        """POST once (see creation), stop it if declared stopped, wait; undo it if the wait fails."""
        if inputs.adopt_id:
            return self._adopt(inputs)
        api = self._api()
        endpoint = created = api.creator.create(inputs.spec()).endpoint
        try:
            if not inputs.enabled:  # the create request has no `enabled`: created, then stopped (no GPU billed)
                endpoint = api.client.update_endpoint(endpoint.id, EndpointPatch(enabled=False)) or endpoint
                api.changed()
            if inputs.wait_for_ready:  # a create that never gets there is undone below
                endpoint = self._settle(api, endpoint, inputs, f"create {inputs.name!r}", probe=inputs.enabled,
                                        key=inputs.routing_key)
        except errors.TokenFactoryError as exc:
            raise self._undo_create(api, endpoint.id, exc) from None
        # What a later answer lacks keeps the first value an answer gave, then what was sent.
        first = {k: v for k, v in (("routing_key", created.routing_key), ("created_at", created.created_at)) if v}
        return endpoint.id, api.state(endpoint, {**inputs.input_props(), **first})

    def _adopt(self, inputs: EndpointInputs) -> tuple[str, EndpointState]:
        """Take over `inputs.adopt_id`: verify, PATCH the in-place settings, wait; never POST, never delete."""
        assert inputs.adopt_id is not None
        api = self._api()
        label = f"adopt {inputs.name!r}"
        try:
            endpoint = api.client.get_endpoint(inputs.adopt_id)
        except errors.NotFoundError:
            raise errors.EndpointOperationError(
                f"{label}: endpoint {inputs.adopt_id} no longer exists; nothing was created. Remove adopt_id to "
                f"create a new endpoint", endpoint_id=inputs.adopt_id) from None
        problems = mismatches(endpoint, inputs) + [(ADOPT_FIELD, p) for p in [unadoptable(endpoint)] if p]
        if problems:
            raise errors.EndpointOperationError(
                f"{label}: endpoint {endpoint.id} cannot be adopted as declared ({'; '.join(r for _, r in problems)})"
                f"; nothing was changed", endpoint_id=endpoint.id)
        if not api.creator.claim(endpoint.id, adopted=True):
            raise errors.EndpointOperationError(
                f"{label}: endpoint {endpoint.id} is already held by another resource of this deployment; an "
                f"endpoint can belong to one resource only, so nothing was changed", endpoint_id=endpoint.id)
        patch = planned_patch(endpoint, inputs)
        try:
            if not patch.is_empty():
                endpoint = api.client.update_endpoint(endpoint.id, patch) or endpoint
                api.changed()
            if inputs.wait_for_ready:
                endpoint = self._settle(api, endpoint, inputs, label, probe=False, key=None)
        except errors.TokenFactoryError as exc:
            raise errors.EndpointOperationError(
                f"{exc.message}. Endpoint {endpoint.id} was not deleted (it existed before this adoption) and is "
                f"not in the state yet; fix the cause and run `pulumi up` again to adopt it",
                endpoint_id=endpoint.id) from None
        return endpoint.id, api.state(endpoint, inputs.input_props())

    def _settle(self, api: _Session, endpoint: Endpoint | str, desired: EndpointInputs, label: str, *,
                probe: bool, key: str | None) -> Endpoint:
        """Wait for the declared state, then (`wait_for_inference`, when `probe`) for a real answer on the routing
        key. A wait the host interrupts keeps the endpoint as last read, else as known, and says so (see
        host.interrupts)."""
        endpoint_id = endpoint if isinstance(endpoint, str) else endpoint.id
        known = endpoint  # the endpoint as last read: the wait's, once it got there (the probe reads no status)
        try:
            budget = api.gate.budget(desired.ready_timeout)
            known = api.waiter.until_state(endpoint_id, desired.target_state, desired.ready_timeout, label=label)
            if probe and desired.wait_for_inference:
                api.gate.until_routable(endpoint_id, known.routing_key or key, desired.region, budget, label=label)
            return known
        except errors.WaitInterrupted as stop:
            last = stop.last if isinstance(stop.last, Endpoint) else known
            if not isinstance(last, Endpoint):  # read before the line: a failed read records nothing
                last = api.client.get_endpoint(endpoint_id)
            ENGINE_LOG.progress(f"{stop.message}. Endpoint {stop.endpoint_id} exists and is recorded in the state as "
                                f"it is now ({describe_deployment(last)}): `pulumi refresh` reads its status again, "
                                f"`pulumi destroy` deletes it")
            return last

    def _undo_create(self, api: _Session, endpoint_id: str, cause: errors.TokenFactoryError) -> Exception:
        """A create that fails after the endpoint exists deletes it, or says loudly that it could not."""
        try:
            api.client.delete_endpoint(endpoint_id, missing_ok=True)
            api.changed()
        except errors.TokenFactoryError as cleanup_error:
            return errors.EndpointOperationError(
                f"{cause.message}. Deleting the half-created endpoint {endpoint_id} also failed "
                f"({cleanup_error}); it STILL EXISTS and may be billed: delete it in the Token Factory "
                f"console or with DELETE /v0/dedicated_endpoints/{endpoint_id}.", endpoint_id=endpoint_id)
        try:
            api.waiter.until_gone(endpoint_id, DEFAULT_READY_TIMEOUT_SECONDS / 3, label="clean-up")
        except errors.TokenFactoryError as wait_error:
            return errors.EndpointOperationError(
                f"{cause.message}. The half-created endpoint {endpoint_id} was deleted (the API accepted the "
                f"DELETE), but its removal could not be confirmed ({wait_error}); nothing was recorded in the "
                f"state. Check that it is gone in the Token Factory console.", endpoint_id=endpoint_id)
        return errors.EndpointOperationError(
            f"{cause.message}. The endpoint {endpoint_id} was deleted again so that nothing is left running "
            f"or billed; nothing was recorded in the state.", endpoint_id=endpoint_id)

    def check_project(self, id_: str, recorded: Mapping[str, Any]) -> None:
        """Refuse to act on an endpoint in a project other than the one the state records it in.

        Another `ai_project_id` does not list it and answers its DELETE with 404: a refresh would drop a
        billed endpoint from the state (and the next `up` buy a second), a destroy would leave it running.
        States written before the project was recorded (0.4.0) are taken as they are.
        """
        if PROJECT_FIELD not in recorded:
            return
        was, now = recorded[PROJECT_FIELD] or "", self._api().client.project_id or ""
        if was != now:
            raise errors.ConfigurationError(
                f"Endpoint {id_} belongs to {_project(was)}, but the provider now acts in {_project(now)} "
                f"(tokenfactory:projectId, else TOKENFACTORY_PROJECT_ID): there it would look deleted. Nothing was "
                f"changed; set the project back to {was!r}" + (" (unset both)" if not was else ""))

    def read(self, id_: str, recorded: Mapping[str, Any]) -> EndpointState | None:
        """The endpoint as it is now, what the API does not say kept from `recorded`; None once it is gone."""
        api = self._api()
        listing = api.reads.snapshot(max_age=READ_MAX_AGE_SECONDS)
        endpoint = listing.get(id_)
        if endpoint is None:
            # The list is authoritative for "gone" only once a direct look-up agrees, and never while
            # it holds an item that cannot be read and may be this very endpoint.
            unreadable = listing.unreadable(id_)
            if unreadable is not None and unreadable.id == id_:
                raise _unreadable_error(id_, unreadable)
            try:
                endpoint = api.client.get_endpoint(id_)
            except errors.NotFoundError:
                if unreadable is not None:
                    raise _unreadable_error(id_, unreadable) from None
                return None
        try:
            return api.state(endpoint, recorded)
        except ValidationError as exc:
            raise errors.UnexpectedResponseError(
                f"Endpoint {id_} cannot be read into the state: {first_problem(exc)}") from None

    def update(self, id_: str, current: EndpointState, desired: EndpointInputs) -> EndpointState:
        """One PATCH of what differs; a wait when it moves the deployment."""
        patch = desired.patch_from(current)
        api = self._api()
        endpoint = None
        if not patch.is_empty():
            try:
                endpoint = api.client.update_endpoint(id_, patch)
            except errors.NotFoundError:
                raise errors.EndpointOperationError(
                    f"Endpoint {id_} no longer exists (deleted outside Pulumi). Run `pulumi refresh` to drop "
                    f"it from the state; the next `pulumi up` creates it again.", endpoint_id=id_) from None
            api.changed()
        if desired.wait_for_ready and patch.model_fields_set & _REDEPLOYING:
            endpoint = self._settle(api, endpoint or id_, desired, f"update {desired.name!r}",
                                    probe=starts_replicas(current, desired), key=current.routing_key)
        if endpoint is None:
            endpoint = api.client.get_endpoint(id_)
        # What the answer lacks keeps its known value: the declared inputs, else the prior outputs.
        known = {**current.model_dump(include=set(OUTPUT_FIELDS)), **desired.input_props()}
        return api.state(endpoint, known)

    def delete(self, id_: str, name: str, timeout: float) -> None:
        """DELETE (a missing endpoint is already gone), then wait until the list no longer shows it.

        Not an endpoint a create of this provider host (one a command) took over with adopt_id: the resource that
        adopted it (the replacement of `pulumi up --replace`, which the engine checks as a new resource, or a
        resource declared under a new name) holds it now, and the state records it there; deleting it would leave
        that state naming a deleted endpoint.
        """
        api = self._api()
        if api.creator.adopted(id_):
            ENGINE_LOG.progress(f"delete {name!r}: endpoint {id_} is not deleted: another resource of this update "
                                f"took it over (adopt_id) and holds it now")
            return
        if not api.client.delete_endpoint(id_, missing_ok=True):
            return
        api.changed()
        try:
            api.waiter.until_gone(id_, timeout, label=f"delete {name!r}")
        except errors.WaitInterrupted as stop:
            ENGINE_LOG.progress(f"{stop.message}. The API accepted its DELETE: the endpoint is being removed, and it "
                                f"leaves the state")


def _project(project_id: str) -> str:
    return f"project {project_id!r}" if project_id else "the API key's default project"


def _unreadable_error(endpoint_id: str, item: MalformedItem) -> errors.UnexpectedResponseError:
    """This resource's own list item is malformed: fail it alone, clearly, and leave its state as it is."""
    which = "its entry" if item.id == endpoint_id else f"an entry that may be it ({item.label()})"
    return errors.UnexpectedResponseError(
        f"Endpoint {endpoint_id} cannot be refreshed: the API lists {which} in a form this provider cannot "
        f"read ({item.reason}). The state was left unchanged; other endpoints are not affected",
        method="GET", path="/v0/dedicated_endpoints")

