"""`tokenfactory-account`: every endpoint of the account, the GPUs it reserves and, with prices, its hourly cost.

    TOKENFACTORY_API_KEY=... tokenfactory-account [--prices FILE_OR_JSON] [--region R] [--json]
    tokenfactory-account api-check [--base-url URL]   (no token: see console/apicheck.py)

The question a platform team asks every Monday: what is running, where, and what does it cost
per hour? One `GET /v0/dedicated_endpoints` lists the whole account (the management API has one
base URL; each endpoint names its region), and the figures come from `pulumi_tokenfactory.spend`,
the same code behind the resources' `reserved_gpus` / `hourly_cost_min` outputs and the budget
policy, so the three agree:

* reserved GPUs: `min_replicas x gpu_count` while the endpoint is enabled, 0 when it is stopped
  (a stopped endpoint is not billed); max GPUs: `max_replicas x gpu_count`;
* with a price table (`--prices`, the format of the stack setting `tokenfactory:gpuHourlyPrices`,
  e.g. `{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}`, inline or a file), the hourly cost
  of the reserved GPUs and, under load, of the maximum. A GPU type missing from the table leaves
  that row's cost unknown and makes the totals say they are partial; without a table no cost is
  shown at all. Nothing is invented.

Subtotals per region and a total follow the rows; `--json` prints the same for machines.

Exit status: 0 when the account was listed; 2 for an unknown `--region` (none of the published regions, refused
before any API call); 1 for any other failure, in one line on stderr.

The token is read from `TOKENFACTORY_API_KEY` only (never a flag: a process list shows argv) and
never printed; `--base-url` or `TOKENFACTORY_BASE_URL` points the command elsewhere, e.g. at the
emulator.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import errors, spend
from ..api.models import Endpoint, LifecycleState, lifecycle_state
from ..endpoint.fields import REGIONS
from . import apicheck
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

#: Shown for a region the API did not report.
NO_REGION = "(no region)"


@dataclass(frozen=True)
class Row:
    """One listed endpoint and what it reserves and costs (None: not readable from the API's answer)."""

    endpoint: Endpoint
    reservation: spend.Reservation | None
    cost: spend.HourlyCost | None

    @property
    def region(self) -> str:
        return self.endpoint.region or NO_REGION


def billing_props(endpoint: Endpoint) -> dict[str, Any]:
    """The endpoint as `spend.reservation` reads it.

    The API may report a stopped endpoint by its status alone (`enabled` absent), and a stopped
    endpoint is not billed, so the status counts as well as the flag.
    """
    scaling = endpoint.scaling
    enabled = endpoint.enabled is not False and lifecycle_state(endpoint.status) is not LifecycleState.STOPPED
    return {
        "gpu_type": endpoint.gpu_type,
        "gpu_count": endpoint.gpu_count,
        "scaling": {"min_replicas": scaling.min_replicas if scaling else None,
                    "max_replicas": scaling.max_replicas if scaling else None},
        "enabled": enabled,
    }


def rows(endpoints: Iterable[Endpoint], table: spend.PriceTable | None) -> list[Row]:
    """Every endpoint with its reservation and cost, by region then name."""
    found: list[Row] = []
    for endpoint in endpoints:
        res = spend.reservation(billing_props(endpoint))
        cost = spend.hourly_cost_or_free(res, table) if res is not None and table is not None else None
        found.append(Row(endpoint, res, cost))
    return sorted(found, key=lambda r: (r.region, r.endpoint.name or "", r.endpoint.id))


@dataclass
class Total:
    """A sum over rows: GPUs, cost of the priced rows, and what could not be counted."""

    endpoints: int = 0
    reserved_gpus: int = 0
    peak_gpus: int = 0
    hourly_cost_min: float = 0.0
    hourly_cost_max: float = 0.0
    unpriced: list[str] = field(default_factory=list)   # ids whose GPU type has no price
    unreadable: list[str] = field(default_factory=list)  # ids whose answer lacks a figure

    def add(self, row: Row) -> None:
        self.endpoints += 1
        if row.reservation is None:
            self.unreadable.append(row.endpoint.id)
            return
        self.reserved_gpus += row.reservation.reserved_gpus
        self.peak_gpus += row.reservation.peak_gpus
        if row.cost is None:
            self.unpriced.append(row.endpoint.id)
        else:
            self.hourly_cost_min += row.cost.minimum
            self.hourly_cost_max += row.cost.maximum

    def as_json(self, table: spend.PriceTable | None) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoints": self.endpoints, "reserved_gpus": self.reserved_gpus,
                               "max_gpus_under_load": self.peak_gpus}
        if table is not None:
            out.update(hourly_cost_min=round(self.hourly_cost_min, 2), hourly_cost_max=round(self.hourly_cost_max, 2),
                       currency=table.currency, cost_partial=bool(self.unpriced or self.unreadable),
                       cost_unknown_for=sorted(self.unpriced))
        if self.unreadable:
            out["not_counted"] = sorted(self.unreadable)
        return out


def totals(found: Sequence[Row]) -> tuple[dict[str, Total], Total]:
    """Subtotals by region (in row order) and the account's total."""
    regions: dict[str, Total] = {}
    overall = Total()
    for row in found:
        regions.setdefault(row.region, Total()).add(row)
        overall.add(row)
    return regions, overall


# -- output --------------------------------------------------------------------------------------

def _figure(value: int | None) -> str:
    return "?" if value is None else str(value)


def _money(table: spend.PriceTable, cost: spend.HourlyCost | None, which: str) -> str:
    if cost is None:
        return "unknown"
    return f"{table.money(cost.minimum if which == 'min' else cost.maximum)}/h"


def _summary(label: str, total: Total, table: spend.PriceTable | None, missing: Mapping[str, str]) -> str:
    text = (f"{label}: {total.endpoints} endpoint(s), {total.reserved_gpus} GPUs reserved, up to {total.peak_gpus} "
            f"under load")
    if table is not None:
        text += (f"; {table.money(total.hourly_cost_min)}/h, up to {table.money(total.hourly_cost_max)}/h "
                 "under load")
        if total.unpriced:
            types = sorted({missing[i] for i in total.unpriced})
            text += f" (partial: no price for {', '.join(types)}, {len(total.unpriced)} endpoint(s) not costed)"
    if total.unreadable:
        text += f" (not counted, the API's answer lacks scaling or GPU figures: {', '.join(sorted(total.unreadable))})"
    return text


def render(found: Sequence[Row], table: spend.PriceTable | None, *, source: str) -> str:
    """The table a person reads: one row per endpoint, a subtotal per region, the total."""
    header = ["region", "name", "id", "model", "gpu type", "status", "reserved GPUs", "max GPUs"]
    if table is not None:
        header += [f"cost/h ({table.currency})", "max cost/h"]
    lines: list[list[str]] = [header]
    for row in found:
        e, res = row.endpoint, row.reservation
        cells = [row.region, e.name or "", e.id, e.model_name or "", e.gpu_type or "", e.status or "",
                 _figure(res.reserved_gpus if res else None), _figure(res.max_gpus if res else None)]
        if table is not None:
            cells += [_money(table, row.cost, "min"), _money(table, row.cost, "max")]
        lines.append(cells)
    text = columns(lines, right_aligned=range(6, len(header)))
    missing = {r.endpoint.id: r.endpoint.gpu_type or "?" for r in found}
    regions, overall = totals(found)
    prices = f"prices in {table.currency}" if table is not None else "no price table, GPUs only; --prices adds costs"
    out = [f"Token Factory account at {source} ({prices})", "", *text, ""]
    out += [_summary(f"region {region}", total, table, missing) for region, total in regions.items()]
    out.append(_summary("total", overall, table, missing))
    return "\n".join(out)


def as_json(found: Sequence[Row], table: spend.PriceTable | None, *, source: str) -> dict[str, Any]:
    """The same figures for machines (amounts rounded to cents, as in the table)."""
    def endpoint(row: Row) -> dict[str, Any]:
        e, res = row.endpoint, row.reservation
        item: dict[str, Any] = {"id": e.id, "name": e.name, "region": e.region, "model_name": e.model_name,
                                "gpu_type": e.gpu_type, "status": e.status,
                                "reserved_gpus": res.reserved_gpus if res else None,
                                "max_gpus": res.max_gpus if res else None}
        if table is not None:
            item["hourly_cost_min"] = round(row.cost.minimum, 2) if row.cost else None
            item["hourly_cost_max"] = round(row.cost.maximum, 2) if row.cost else None
        return item

    regions, overall = totals(found)
    return {"base_url": source, "currency": table.currency if table else None,
            "endpoints": [endpoint(row) for row in found],
            "regions": {region: total.as_json(table) for region, total in regions.items()},
            "total": overall.as_json(table)}


# -- the command ---------------------------------------------------------------------------------

def load_prices(given: str | None) -> spend.PriceTable | None:
    """`--prices`: inline JSON (text starting with `{`) or the path of a JSON file; None without it.

    The stack setting `tokenfactory:gpuHourlyPrices` lives in a stack's config, which an account-wide
    command does not read, and the settings module defines no environment variable for it.
    """
    if given is None:
        return None
    text = given
    if not given.lstrip().startswith("{"):
        try:
            text = Path(given).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:  # a binary file, or one saved in UTF-16, is unreadable too
            cause = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x}"
            raise errors.InvalidSettingError(
                f"--prices {given!r}: neither inline JSON nor a readable file ({cause}); expected "
                f'e.g. --prices \'{{"currency": "USD", "prices": {{"gpu-h100-sxm": 3.5}}}}\'',
                setting="--prices") from None
    try:
        return spend.parse_price_table(text)
    except spend.SpendConfigError as exc:
        raise errors.InvalidSettingError(f"--prices: {exc}", setting="--prices") from None


@ends_quietly_on_ctrl_c("tokenfactory-account")
def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == [apicheck.COMMAND]:  # the one subcommand; the account view keeps its flags at the top level
        return apicheck.main(given[1:])
    parser = command_parser("tokenfactory-account", __doc__)
    parser.add_argument("--prices", metavar="FILE_OR_JSON",
                        help='price table, e.g. \'{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}\' or a file')
    parser.add_argument("--region", help=f"only endpoints in this region, one of: {', '.join(REGIONS)}")
    parser.add_argument("--base-url", help=BASE_URL_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if (wrong_region := unknown_region(args.region)) is not None:
        complain("tokenfactory-account", wrong_region)
        return 2
    try:
        table = load_prices(args.prices)
        with console_client(args.base_url) as client:
            listed = client.list_endpoints()
            source = client.base_url
    except errors.TokenFactoryError as failure:
        return report_failure("tokenfactory-account", failure, base_url_flag=args.base_url is not None)
    found = rows((e for e in listed if args.region is None or e.region == args.region), table)
    if args.json:
        print(json.dumps(as_json(found, table, source=source), indent=2))
    elif not found:
        print(f"Token Factory account at {source}: no endpoints{f' in {args.region}' if args.region else ''}")
    else:
        print(render(found, table, source=source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
