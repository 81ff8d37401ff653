"""`tokenfactory-adopt`: bring an account's existing endpoints under Pulumi, as code a user would commit.

    TOKENFACTORY_API_KEY=... tokenfactory-adopt [--name-pattern 'prod-*'] [--model M] [--region R] \
        [--output adopted_endpoints.py] [--force]

Lists the account's endpoints (one API call), keeps those matching the filters, and writes a
Python module that declares each as a `DedicatedEndpoint` with `adopt_id=` and its *current*
settings, so that `pulumi up` on a program importing it adopts every one with no POST, no
replace and no PATCH, and the next preview shows no changes. It then prints a table of what
it found and did. Endpoints it cannot adopt as they are (in error, being deleted, or an
answer lacking a field the resource needs) are left out of the module and reported;
stopped ones are declared with `enabled=False`, starting ones are adopted and waited for.

When nothing is left to declare (the filters match no endpoint, or none of those they match can be
adopted), it writes nothing and exits 1 with a one-line message; an unknown `--region` is refused
(exit 2) naming the eight regions, and so is an `--output` that is a directory, lies in a directory that does not
exist, or exists without `--force` (exit 2, before any API call); a module that cannot be written (a read-only
directory, a full disk) ends it with one line and exit 2, leaving nothing behind.

The token is read from `TOKENFACTORY_API_KEY` only (never a flag: a process list shows
argv); `--base-url` or `TOKENFACTORY_BASE_URL` points it elsewhere, e.g. at the emulator.
"""

from __future__ import annotations

import fnmatch
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import errors
from ..api.models import Endpoint, LifecycleState, lifecycle_state
from ..endpoint.fields import API_FIELDS, REGIONS, REQUIRED_INPUTS, SCALING_FIELD
from .messages import (
    BASE_URL_HELP,
    columns,
    command_parser,
    complain,
    console_client,
    ends_quietly_on_ctrl_c,
    report_failure,
    unknown_region,
)

#: Fields without which a declaration could not reproduce the endpoint: the required inputs, and the region (its
#: default is the adopting stack's, which need not be the endpoint's).
REQUIRED_FIELDS = (*REQUIRED_INPUTS, "region")
NOT_ADOPTABLE = {LifecycleState.ERROR: "in error: fix or delete it in the console first",
                 LifecycleState.DELETING: "being deleted"}


@dataclass(frozen=True)
class Finding:
    """One listed endpoint and what the generated module does with it."""

    endpoint: Endpoint
    resource_name: str | None  # None: left out of the module (see note)
    note: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "endpoint"


def _identifier(slug: str) -> str:
    name = slug.replace("-", "_")
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"endpoint_{name}"
    return name


def select(endpoints: Iterable[Endpoint], *, name_pattern: str | None = None, model: str | None = None,
           region: str | None = None) -> list[Endpoint]:
    """The endpoints the filters keep (a glob on the display name; exact model and region)."""
    return [e for e in endpoints
            if (name_pattern is None or fnmatch.fnmatchcase(e.name or "", name_pattern))
            and (model is None or e.model_name == model)
            and (region is None or e.region == region)]


def plan(endpoints: Sequence[Endpoint]) -> list[Finding]:
    """Decide, per endpoint, whether it can be declared as it is, under which unique resource name."""
    used: set[str] = set()
    findings: list[Finding] = []
    for endpoint in sorted(endpoints, key=lambda e: (e.name or "", e.id)):
        missing = [f for f in REQUIRED_FIELDS if getattr(endpoint, f) is None]
        if endpoint.scaling is not None and None in (endpoint.scaling.min_replicas, endpoint.scaling.max_replicas):
            missing.append("scaling")
        state = lifecycle_state(endpoint.status)
        if missing:
            findings.append(Finding(endpoint, None, f"skipped: the API's answer lacks {', '.join(missing)}"))
            continue
        if state in NOT_ADOPTABLE:
            findings.append(Finding(endpoint, None, f"skipped: {NOT_ADOPTABLE[state]}"))
            continue
        base = _slug(endpoint.name or endpoint.id)
        name = base if base not in used else f"{base}-{_slug(endpoint.id)}"
        used.add(name)
        note = {LifecycleState.STOPPED: "adopted as stopped (enabled=False)",
                LifecycleState.STARTING: "adopted; `pulumi up` waits until it is running",
                LifecycleState.UNKNOWN: f"adopted; its status {endpoint.status!r} is not one the provider knows"
                }.get(state, "adopted")
        findings.append(Finding(endpoint, name, note))
    return findings


def render(findings: Sequence[Finding], *, source: str) -> str:
    """The module's text: one declaration per adoptable endpoint, with its current settings."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f'"""Dedicated endpoints adopted from {source} by tokenfactory-adopt on {stamp}.',
        "",
        "Import this module from a Pulumi program. `pulumi up` then takes each endpoint over as it is:",
        "`adopt_id` makes the create read the existing endpoint instead of buying a new one (no POST),",
        "and every setting below is its current one, so nothing is changed. Edit the in-place settings",
        "(name, description, scaling, enabled) as usual afterwards; `adopt_id` may stay or go.",
        '"""',
        "",
        "import pulumi_tokenfactory as tokenfactory",
        "",
    ]
    for finding in findings:
        if finding.resource_name is None:
            continue
        lines += [
            "",
            f"{_identifier(finding.resource_name)} = tokenfactory.DedicatedEndpoint(",
            f"    {finding.resource_name!r},",
            f"    adopt_id={finding.endpoint.id!r},",
            *_settings(finding.endpoint),
            ")",
        ]
    return "\n".join(lines) + "\n"


def _settings(e: Endpoint) -> list[str]:
    """One keyword argument per setting the API reports, in the declaration's order, each its current value.

    Every field the API knows is written when it has a value (a field left out would be PATCHed to the program's
    default on adoption: unwritten custom weights would be cleared); `enabled` only when the endpoint is stopped.
    """
    written = []
    for name in API_FIELDS:
        value: Any = getattr(e, name)
        if name == SCALING_FIELD:
            assert value is not None  # plan() skips an endpoint without scaling
            written.append(f"    scaling=tokenfactory.ScalingArgs(min_replicas={value.min_replicas}, "
                           f"max_replicas={value.max_replicas}),")
        elif name == "enabled":
            if lifecycle_state(e.status) is LifecycleState.STOPPED or value is False:
                written.append("    enabled=False,")
        elif value not in (None, ""):
            written.append(f"    {name}={value!r},")
    return written


def table(findings: Sequence[Finding]) -> str:
    """The summary a person reads: one row per endpoint listed."""
    header = ("endpoint", "name", "model", "region", "status", "resource", "what happens")
    return "\n".join(columns([header] + [
        (f.endpoint.id, f.endpoint.name or "", f.endpoint.model_name or "", f.endpoint.region or "",
         f.endpoint.status or "", f.resource_name or "-", f.note) for f in findings]))


def describe_filters(*, name_pattern: str | None, model: str | None, region: str | None) -> str:
    """The filters as the command line gave them, e.g. ``--name-pattern 'prod-*' --region eu-west1``."""
    given = [("--name-pattern", name_pattern), ("--model", model), ("--region", region)]
    return " ".join(f"{flag} {value!r}" if flag == "--name-pattern" else f"{flag} {value}"
                    for flag, value in given if value is not None)


def output_problem(output: Path, *, force: bool) -> str | None:
    """Why the module cannot be written at `output`, if that can be told before the listing: a typo in the path
    then costs no API call, and no table is printed for a module that will not be written."""
    if output.is_dir():
        return f"is a directory; give the module's file name, e.g. {output / 'adopted_endpoints.py'}"
    if output.exists() and not force:
        return "exists; pass --force to overwrite it"
    if not output.parent.is_dir():
        return f"the directory {output.parent} does not exist"
    return None


@ends_quietly_on_ctrl_c("tokenfactory-adopt")
def main(argv: list[str] | None = None) -> int:
    parser = command_parser("tokenfactory-adopt", __doc__)
    parser.add_argument("--name-pattern", help="glob on the display name, e.g. 'prod-*'")
    parser.add_argument("--model", help="only endpoints of this model, e.g. openai/gpt-oss-120b")
    parser.add_argument("--region", help=f"only endpoints in this region, one of: {', '.join(REGIONS)}")
    parser.add_argument("--base-url", help=BASE_URL_HELP)
    parser.add_argument("--output", type=Path, default=Path("adopted_endpoints.py"),
                        help="the module to write (default: adopted_endpoints.py)")
    parser.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    args = parser.parse_args(argv)
    if (wrong_region := unknown_region(args.region)) is not None:
        complain("tokenfactory-adopt", f"{wrong_region}; nothing written")
        return 2
    problem = output_problem(args.output, force=args.force)
    if problem is not None:
        complain("tokenfactory-adopt", f"--output {args.output}: {problem}; nothing written")
        return 2
    try:
        with console_client(args.base_url) as client:
            listed = client.list_endpoints()
            source = client.base_url
    except errors.TokenFactoryError as failure:
        return report_failure("tokenfactory-adopt", failure, base_url_flag=args.base_url is not None)
    filters = describe_filters(name_pattern=args.name_pattern, model=args.model, region=args.region)
    findings = plan(select(listed, name_pattern=args.name_pattern, model=args.model, region=args.region))
    if not findings:
        matched = f"no endpoint matches {filters}" if filters else "the account has no endpoint"
        complain("tokenfactory-adopt", f"{matched} ({len(listed)} endpoint(s) listed at {source}); nothing written")
        return 1
    adopted = [f for f in findings if f.resource_name is not None]
    print(table(findings))
    if not adopted:
        complain("tokenfactory-adopt", f"none of the {len(findings)} endpoint(s) found can be adopted as it is "
              f"(see the table); nothing written")
        return 1
    partial = args.output.with_name(f".{args.output.name}.partial")
    try:  # in one step: an interrupted command leaves no half-written module, and any earlier one as it was
        partial.write_text(render(findings, source=source))
        partial.replace(args.output)
    except OSError as exc:  # a read-only directory, a full disk: checked late, as only the write can tell
        complain("tokenfactory-adopt", f"--output {args.output}: cannot write it ({exc.strerror or exc}); "
                                       "nothing written")
        return 2
    finally:
        partial.unlink(missing_ok=True)
    print(f"\n{len(adopted)} of {len(findings)} endpoint(s) declared in {args.output}; "
          f"{len(findings) - len(adopted)} skipped. Import it from your program and run `pulumi up`.")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
