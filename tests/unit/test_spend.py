"""The spend model: price table parsing, reservations from engine-shaped values, the lines and the total."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.spend import GPU_PRICES_CONFIG, PriceTable, SpendConfigError, parse_price_table

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TABLE_VALUE = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}


def endpoint(min_r: Any = 1, max_r: Any = 2, count: Any = 1, gpu: Any = "gpu-h100-sxm",
             enabled: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"gpu_type": gpu, "gpu_count": count,
                             "scaling": {"min_replicas": min_r, "max_replicas": max_r}}
    if enabled is not None:
        props["enabled"] = enabled
    return props


@pytest.fixture
def table() -> PriceTable:
    parsed = parse_price_table(TABLE_VALUE)
    assert parsed is not None
    return parsed


def res(**kw: Any) -> spend.Reservation:
    r = spend.reservation(endpoint(**kw))
    assert r is not None
    return r


# --- price table -----------------------------------------------------------------------

def test_table_from_json_text_and_object_agree() -> None:
    assert parse_price_table(json.dumps(TABLE_VALUE)) == parse_price_table(TABLE_VALUE)
    parsed = parse_price_table(TABLE_VALUE)
    assert parsed is not None and parsed.price("gpu-h200-sxm") == 5.0 and parsed.currency == "USD"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_absent_table_is_none(raw: Any) -> None:
    assert parse_price_table(raw) is None


@pytest.mark.parametrize(("raw", "named"), [
    ("{not json", "not valid JSON"),
    ([1, 2], "list"),
    ({"currency": "USD", "prices": {"gpu-h100-sxm": 1}, "extra": 1}, "'extra'"),
    ({"currency": "usd", "prices": {"gpu-h100-sxm": 1}}, "'usd'"),
    ({"prices": {"gpu-h100-sxm": 1}}, "'currency' is None"),
    ({"currency": "USD", "prices": {}}, "'prices' is {}"),
    ({"currency": "USD", "prices": {"h100": 1}}, "'h100'"),
    ({"currency": "USD", "prices": {"gpu-h100-sxm": -1}}, "-1"),
    ({"currency": "USD", "prices": {"gpu-h100-sxm": "3.5"}}, "'3.5'"),
    ({"currency": "USD", "prices": {"gpu-h100-sxm": True}}, "True"),
    ({"currency": "USD", "prices": {"gpu-h100-sxm": float("nan")}}, "nan"),
])
def test_bad_table_names_setting_value_and_allowed(raw: Any, named: str) -> None:
    with pytest.raises(SpendConfigError) as err:
        parse_price_table(raw)
    text = str(err.value)
    assert GPU_PRICES_CONFIG in text and named in text and "expected an object like" in text


def test_money_formats(table: PriceTable) -> None:
    assert table.money(7) == "$7.00"
    assert table.money(-3.5, sign=True) == "-$3.50"
    assert table.money(0, sign=True) == "+$0.00"
    chf = PriceTable(currency="CHF", prices={"gpu-h100-sxm": 1.0})
    assert chf.money(2.5, sign=True) == "+2.50 CHF"
    assert parse_price_table(table.to_config()) == table


# --- reservation -----------------------------------------------------------------------

def test_reservation_from_floats_as_the_engine_sends_them() -> None:
    r = res(min_r=2.0, max_r=3.0, count=2.0)
    assert (r.reserved_gpus, r.max_gpus) == (4, 6)
    assert isinstance(r.reserved_gpus, int) and isinstance(r.max_gpus, int)


def test_stopped_endpoint_reserves_nothing_but_keeps_its_max() -> None:
    r = res(min_r=1, max_r=2, count=2, enabled=False)
    assert (r.reserved_gpus, r.max_gpus, r.peak_gpus) == (0, 4, 0)


@pytest.mark.parametrize("props", [
    endpoint(min_r=UNKNOWN), endpoint(count=UNKNOWN), endpoint(gpu=UNKNOWN), endpoint(enabled=UNKNOWN),
    endpoint(count=1.5), endpoint(count=True), {"gpu_type": "gpu-h100-sxm", "gpu_count": 1},
    {"scaling": UNKNOWN, "gpu_type": "gpu-h100-sxm", "gpu_count": 1},
])
def test_unknown_or_malformed_parts_give_no_reservation(props: dict[str, Any]) -> None:
    assert spend.reservation(props) is None


def test_minimum_scale_needs_no_gpu_type_nor_max_and_is_what_the_reservation_counts() -> None:
    props = {"gpu_count": 4.0, "scaling": {"min_replicas": 2.0}}
    minimum = spend.minimum_scale(props)
    assert minimum is not None and minimum.reserved_gpus == 8
    full = endpoint(min_r=2.0, count=4.0)
    r, m = spend.reservation(full), spend.minimum_scale(full)
    assert r is not None and m is not None and r.reserved_gpus == m.reserved_gpus == 8
    assert isinstance(r, spend.MinimumScale)  # the one arithmetic: Reservation inherits it


def test_minimum_scale_counts_an_unknown_enabled_only_when_asked() -> None:
    props = endpoint(min_r=1.0, count=2.0, enabled=UNKNOWN)
    assert spend.minimum_scale(props) is None
    minimum = spend.minimum_scale(props, assume_enabled_when_unknown=True)
    assert minimum is not None and (minimum.enabled, minimum.reserved_gpus) == (True, 2)
    stopped = spend.minimum_scale(endpoint(min_r=1.0, count=2.0, enabled=False), assume_enabled_when_unknown=True)
    assert stopped is not None and stopped.reserved_gpus == 0
    assert spend.minimum_scale(endpoint(count=1.5), assume_enabled_when_unknown=True) is None


def test_reservation_from_an_object_with_attributes() -> None:
    class Scaling:
        min_replicas, max_replicas = 2, 4

    class Model:
        gpu_type, gpu_count, enabled, scaling = "gpu-h200-sxm", 1, True, Scaling()

    r = spend.reservation(Model())
    assert r is not None and (r.reserved_gpus, r.max_gpus, r.gpu_type) == (2, 4, "gpu-h200-sxm")


# --- cost and outputs ----------------------------------------------------------------------

def test_hourly_cost_range(table: PriceTable) -> None:
    cost = spend.hourly_cost(res(min_r=1, max_r=3, count=2), table)
    assert cost == spend.HourlyCost(minimum=7.0, maximum=21.0, currency="USD")
    assert spend.hourly_cost(res(min_r=1, max_r=3, count=2), None) is None
    assert spend.hourly_cost(res(gpu="gpu-b200-sxm"), table) is None


def test_outputs_with_and_without_table(table: PriceTable) -> None:
    props = endpoint(min_r=2, max_r=4, count=1, gpu="gpu-h200-sxm")
    assert spend.spend_outputs(props, table) == {"reserved_gpus": 2, "max_gpus": 4, "hourly_cost_min": 10.0,
                                                 "hourly_cost_max": 20.0, "cost_currency": "USD"}
    bare = spend.spend_outputs(props, None)
    assert bare == {"reserved_gpus": 2, "max_gpus": 4, "hourly_cost_min": None, "hourly_cost_max": None,
                    "cost_currency": None}
    missing = spend.spend_outputs(endpoint(gpu="gpu-b200-sxm"), table)
    assert missing["hourly_cost_min"] is None and missing["reserved_gpus"] == 1


# --- lines -------------------------------------------------------------------------------

def test_create_line(table: PriceTable) -> None:
    assert spend.create_line(res(min_r=1, count=2), table) == "+2 gpu-h100-sxm reserved, +$7.00/h"
    assert spend.create_line(res(min_r=1, count=2), None) == "+2 gpu-h100-sxm reserved"
    assert spend.create_line(None, table) == "reserved GPUs unknown until the deployment runs"
    assert "stopped" in spend.create_line(res(enabled=False), table)


def test_update_line_scale_up_and_down(table: PriceTable) -> None:
    one, two = res(min_r=1, max_r=2, count=2), res(min_r=2, max_r=2, count=2)
    assert spend.update_line(one, two, table) == "+2 gpu-h100-sxm reserved, +$7.00/h (2 -> 4)"
    assert spend.update_line(two, one, table) == "-2 gpu-h100-sxm reserved, -$7.00/h (4 -> 2)"
    assert spend.update_line(one, res(min_r=1, max_r=5, count=2), table) == "no change in reserved GPUs"
    stopped = res(min_r=1, max_r=2, count=2, enabled=False)
    assert spend.update_line(one, stopped, table) == "-2 gpu-h100-sxm reserved, -$7.00/h (2 -> 0)"


def test_delete_line(table: PriceTable) -> None:
    assert spend.delete_line(res(min_r=1, count=1), table) == "-1 gpu-h100-sxm reserved, -$3.50/h"


def test_replace_line_shows_the_double_reservation(table: PriceTable) -> None:
    old, new = res(min_r=1, count=1), res(min_r=1, count=2)
    line = spend.replace_line(old, new, table)
    assert line == ("replace (create-before-delete): +2 gpu-h100-sxm reserved, +$7.00/h (peak 3 reserved while "
                    "both exist), then -1 gpu-h100-sxm reserved, -$3.50/h; net +1 gpu-h100-sxm reserved, +$3.50/h")
    same = spend.replace_line(old, old, table)
    assert "peak 2 reserved" in same and same.endswith("net no change in reserved GPUs")
    dbr = spend.replace_line(old, new, table, delete_before_replace=True)
    assert dbr.startswith("replace (delete-before-create): -1") and "peak" not in dbr


def test_replace_across_gpu_types_prices_each_type(table: PriceTable) -> None:
    old, new = res(gpu="gpu-h100-sxm"), res(gpu="gpu-h200-sxm")
    assert spend.delta(old, new, table) == "-1 gpu-h100-sxm reserved, +1 gpu-h200-sxm reserved, +$1.50/h"


def test_missing_price_is_said_never_invented(table: PriceTable) -> None:
    line = spend.create_line(res(gpu="gpu-b200-sxm"), table)
    assert line == f"+1 gpu-b200-sxm reserved, cost unknown: no price for gpu-b200-sxm in {GPU_PRICES_CONFIG}"
    assert "$" not in line


# --- total ---------------------------------------------------------------------------------

def test_stack_total(table: PriceTable) -> None:
    total = spend.stack_total({"a": res(min_r=2, max_r=3, count=1), "b": res(gpu="gpu-h200-sxm"),
                               "c": res(enabled=False), "d": None}, table)
    assert total == {"reserved_gpus": 3, "max_gpus": 5, "by_resource": {"a": 2, "b": 1, "c": 0, "d": None},
                     "unknown": ["d"], "hourly_cost_min": 12.0, "hourly_cost_max": 20.5, "currency": "USD"}
    bare = spend.stack_total({"a": res()}, None)
    assert bare == {"reserved_gpus": 1, "max_gpus": 2, "by_resource": {"a": 1}}
    priced = spend.stack_total({"x": res(gpu="gpu-b200-sxm")}, table)
    assert priced["cost_unknown"] == ["gpu-b200-sxm"] and priced["hourly_cost_min"] == 0


def test_module_imports_nothing_heavy() -> None:
    code = ("import sys, pulumi_tokenfactory.spend; "
            "print(sorted(m for m in ('pulumi', 'pydantic', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# --- the provider host's lines (host/enginelog.py, host/spendreport.py) ------------------------------

def test_engine_address_only_in_the_dynamic_host() -> None:
    from pulumi_tokenfactory.host.enginelog import engine_address

    host = "/venv/lib/python3.11/site-packages/pulumi/dynamic/__main__.py"
    assert engine_address([host, "127.0.0.1:45367"]) == "127.0.0.1:45367"
    assert engine_address([host, "127.0.0.1:0"]) is None  # the repo's engine stand-in
    assert engine_address(["/usr/bin/pytest", "127.0.0.1:45367"]) is None
    assert engine_address([host]) is None


class _Engine:
    """Stands in for the engine's Log stub: records what it is sent, or fails like an engine gone."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def Log(self, request: Any, timeout: float) -> None:
        if self.fail:
            raise RuntimeError("engine gone")
        self.sent.append((request.urn, request.message))


def _log(engine: _Engine | None) -> tuple[Any, Any]:
    import io

    from pulumi_tokenfactory.host.enginelog import EngineLog

    stream = io.StringIO()
    return EngineLog(None, stream=stream, engine=engine), stream


URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::gpt"


def test_line_goes_to_the_resource_row_else_the_stack_row_else_stderr() -> None:
    engine = _Engine()
    log, stream = _log(engine)
    log.info("create: +1", URN, "DedicatedEndpoint 'gpt'")
    log.info("create: +1", None, "DedicatedEndpoint 'GPT'")
    assert engine.sent == [(URN, "create: +1"), ("", "DedicatedEndpoint 'GPT': create: +1")]
    assert stream.getvalue() == ""
    failing, stream = _log(_Engine(fail=True))
    failing.info("create: +1", URN, "DedicatedEndpoint 'gpt'")
    assert stream.getvalue() == "DedicatedEndpoint 'gpt': create: +1\n"
    none, stream = _log(None)
    none.info("x", URN, "DedicatedEndpoint 'gpt'")
    assert stream.getvalue() == "DedicatedEndpoint 'gpt': x\n"


def test_progress_follows_the_resource_of_its_thread() -> None:
    engine = _Engine()
    log, _ = _log(engine)
    with log.resource(URN, "DedicatedEndpoint 'gpt'"):
        log.progress("create 'gpt': endpoint ep-1 is starting")
    log.progress("outside")
    assert engine.sent == [(URN, "create 'gpt': endpoint ep-1 is starting"), ("", "tokenfactory: outside")]


def _report(table: PriceTable | None) -> tuple[Any, _Engine]:
    from pulumi_tokenfactory.host.spendreport import SpendReport

    engine = _Engine()
    log, _ = _log(engine)
    return SpendReport(table, log), engine


def test_report_create_update_replace_and_the_replacements_second_check(table: PriceTable) -> None:
    report, engine = _report(table)
    old = {**endpoint(min_r=1, count=2), "__urn": URN}
    report.checked({}, old)
    report.diffed(old, {**old, "scaling": {"min_replicas": 2, "max_replicas": 2}}, changed=True, replaces=False)
    report.diffed(old, old, changed=False, replaces=False)
    new = {**endpoint(min_r=1, count=4), "__urn": URN}
    report.diffed(old, new, changed=True, replaces=True)
    report.checked({}, new)  # the engine's Check of the replacement: no second "create"
    report.checked({}, new)  # a later create of the same URN is announced again
    assert [m for _, m in engine.sent] == [
        "new endpoint: +2 gpu-h100-sxm reserved, +$7.00/h",
        "update: +2 gpu-h100-sxm reserved, +$7.00/h (2 -> 4)",
        spend.replace_line(spend.reservation(old), spend.reservation(new), table),
        "new endpoint: +4 gpu-h100-sxm reserved, +$14.00/h",
    ]
    assert {urn for urn, _ in engine.sent} == {URN}


def test_report_up_lines_and_an_old_state_without_urn(table: PriceTable) -> None:
    report, engine = _report(table)
    state = {**endpoint(min_r=1, count=1), "name": "GPT"}
    report.deleted(state)
    report.created({**state, "__urn": URN})
    assert engine.sent == [("", "DedicatedEndpoint 'GPT': deleted: -1 gpu-h100-sxm reserved, -$3.50/h"),
                           (URN, "created: +1 gpu-h100-sxm reserved, +$3.50/h")]


def test_report_outputs_keep_the_urn_and_add_spend(table: PriceTable) -> None:
    report, _ = _report(table)
    state = endpoint(min_r=2, max_r=3, count=1)
    outs = report.outputs(state, {"__urn": URN})
    assert outs == {**state, **spend.spend_outputs(state, table), "__urn": URN}
    assert "__urn" not in report.outputs(state, {})


def test_pulumi_unknown_gives_no_reservation() -> None:
    from pulumi.output import Unknown

    assert spend.reservation(endpoint(count=Unknown())) is None
    assert spend.reservation(endpoint(gpu=Unknown())) is None


# --- the program's stack total (program/spending.py) ------------------------------------------------

def _endpoint_program(specs: dict[str, dict[str, Any]], *, only: list[str] | None = None,
                      output_count: bool = False) -> Any:
    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        made = {}
        for name, spec in specs.items():
            count = pulumi.Output.from_input(spec["gpu_count"]) if output_count else spec["gpu_count"]
            made[name] = tokenfactory.DedicatedEndpoint(
                name, name=name, model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type=spec["gpu_type"],
                gpu_count=count, scaling=tokenfactory.ScalingArgs(**spec["scaling"]), enabled=spec.get("enabled"))
        tokenfactory.export_spend(endpoints=[made[n] for n in only] if only is not None else None)

    return program


SPECS: dict[str, dict[str, Any]] = {
    "a": {"gpu_type": "gpu-h100-sxm", "gpu_count": 2, "scaling": {"min_replicas": 1, "max_replicas": 3}},
    "b": {"gpu_type": "gpu-h200-sxm", "gpu_count": 1, "scaling": {"min_replicas": 2, "max_replicas": 2}},
    "c": {"gpu_type": "gpu-h100-sxm", "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 1},
          "enabled": False},
}


@pytest.mark.parametrize("output_count", [False, True])
def test_export_spend_totals_the_programs_endpoints(table: PriceTable, output_count: bool) -> None:
    from tests.harness.mocks import run_program

    result = run_program(_endpoint_program(SPECS, output_count=output_count),
                         config={GPU_PRICES_CONFIG: json.dumps(TABLE_VALUE)})
    expected = spend.stack_total({n: spend.reservation(s) for n, s in SPECS.items()}, table)
    assert result.exports["tokenfactory_spend"] == expected
    assert expected["by_resource"] == {"a": 2, "b": 2, "c": 0} and expected["hourly_cost_min"] == 17.0
    urns = {r.name: r.inputs.get("__urn") for r in result.resources if r.name in SPECS}
    assert urns == {n: f"urn:pulumi:dev::proj::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::{n}"
                    for n in SPECS}


def test_export_spend_without_table_and_for_chosen_endpoints() -> None:
    from tests.harness.mocks import run_program

    result = run_program(_endpoint_program(SPECS, only=["b"]))
    assert result.exports["tokenfactory_spend"] == {"reserved_gpus": 2, "max_gpus": 2, "by_resource": {"b": 2}}


def test_export_spend_refuses_a_bad_price_table() -> None:
    from tests.harness.mocks import run_program

    with pytest.raises(Exception, match="tokenfactory:gpuHourlyPrices"):
        run_program(_endpoint_program(SPECS), config={GPU_PRICES_CONFIG: '{"currency": "USD", "prices": {"h100": 1}}'})
