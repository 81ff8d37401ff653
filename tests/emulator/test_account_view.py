"""`tokenfactory-account` against the emulator: rows, region subtotals and totals, with and without prices.

The account is seeded with four endpoints in two regions, one of them stopped. Expected figures
are worked out by hand from the seeds below and cross-checked against pulumi_tokenfactory.spend,
the module the command must use. The token is an emulator-enforced canary that must never
appear in any output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.console import account
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-account-canary-9e41"
PRICES = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}

SEEDS: list[dict[str, Any]] = [
    {"id": "ep-gpt", "routing_key": "rk-gpt", "name": "team-search-gpt", "model_name": "openai/gpt-oss-120b",
     "flavor_name": "base", "gpu_type": "gpu-h100-sxm", "gpu_count": 4, "region": "eu-north1",
     "scaling": {"min_replicas": 2, "max_replicas": 3}},                        # 8 reserved, 12 max: $28 / $42
    {"id": "ep-llama", "routing_key": "rk-llama", "name": "team-ads-llama",
     "model_name": "meta-llama/Llama-3.3-70B-Instruct", "flavor_name": "base", "gpu_type": "gpu-h200-sxm",
     "gpu_count": 4, "region": "us-central1", "scaling": {"min_replicas": 1, "max_replicas": 2}},  # 4, 8: $20 / $40
    {"id": "ep-off", "routing_key": "rk-off", "name": "team-ads-qwen-stopped", "model_name": "Qwen/Qwen3-32B",
     "flavor_name": "base", "gpu_type": "gpu-h100-sxm", "gpu_count": 2, "region": "us-central1",
     "scaling": {"min_replicas": 2, "max_replicas": 2}, "enabled": False},     # stopped: 0 reserved, 4 max, $0
    {"id": "ep-ds", "routing_key": "rk-ds", "name": "team-research-ds", "model_name": "deepseek-ai/DeepSeek-V3.1",
     "flavor_name": "base", "gpu_type": "gpu-b200-sxm", "gpu_count": 8, "region": "eu-north1",
     "scaling": {"min_replicas": 1, "max_replicas": 1}},                        # 8, 8: no price for gpu-b200-sxm
]


@pytest.fixture(scope="module")
def seeded() -> Any:
    with EmulatorProcess(provision_seconds=0.2, api_key=API_KEY) as emulator:
        for seed in SEEDS:
            emulator.seed_endpoint(seed)
        yield emulator


@pytest.fixture
def env(seeded: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> EmulatorProcess:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", API_KEY)
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", seeded.base_url)
    return seeded


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = account.main(list(argv))
    out, err = capsys.readouterr()
    assert API_KEY not in out + err
    return code, out, err


def row_of(out: str, endpoint_id: str) -> list[str]:
    [line] = [line for line in out.splitlines() if f" {endpoint_id} " in line]
    return line.split()


def test_figures_agree_with_the_spend_module() -> None:
    table = spend.parse_price_table(PRICES)
    outputs = {s["id"]: spend.spend_outputs({**s, "enabled": s.get("enabled", True)}, table) for s in SEEDS}
    assert {i: (o["reserved_gpus"], o["max_gpus"]) for i, o in outputs.items()} == {
        "ep-gpt": (8, 12), "ep-llama": (4, 8), "ep-off": (0, 4), "ep-ds": (8, 8)}
    assert (outputs["ep-gpt"]["hourly_cost_min"], outputs["ep-llama"]["hourly_cost_max"]) == (28.0, 40.0)


def test_table_with_prices_has_rows_region_subtotals_and_a_partial_total(
        env: EmulatorProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--prices", json.dumps(PRICES))
    assert code == 0
    assert out.splitlines()[0] == f"Token Factory account at {env.base_url} (prices in USD)"
    assert row_of(out, "ep-gpt")[-4:] == ["8", "12", "$28.00/h", "$42.00/h"]
    assert row_of(out, "ep-llama")[-4:] == ["4", "8", "$20.00/h", "$40.00/h"]
    assert row_of(out, "ep-off")[-5:] == ["stopped", "0", "4", "$0.00/h", "$0.00/h"]
    assert row_of(out, "ep-ds")[-4:] == ["8", "8", "unknown", "unknown"]
    # Rows grouped by region, then by name.
    order = [line.split()[2] for line in out.splitlines() if line.startswith(("eu-north1 ", "us-central1 "))]
    assert order == ["ep-ds", "ep-gpt", "ep-llama", "ep-off"]
    lines = out.splitlines()
    assert ("region eu-north1: 2 endpoint(s), 16 GPUs reserved, up to 20 under load; $28.00/h, up to $42.00/h "
            "under load (partial: no price for gpu-b200-sxm, 1 endpoint(s) not costed)") in lines
    assert ("region us-central1: 2 endpoint(s), 4 GPUs reserved, up to 8 under load; $20.00/h, up to $40.00/h "
            "under load") in lines
    assert lines[-1] == ("total: 4 endpoint(s), 20 GPUs reserved, up to 28 under load; $48.00/h, up to $82.00/h "
                         "under load (partial: no price for gpu-b200-sxm, 1 endpoint(s) not costed)")


def test_without_prices_there_are_no_cost_columns(env: EmulatorProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    assert "no price table, GPUs only" in out.splitlines()[0]
    assert "$" not in out and "cost" not in out.split("\n", 1)[1]
    assert row_of(out, "ep-gpt")[-2:] == ["8", "12"]
    assert out.splitlines()[-1] == "total: 4 endpoint(s), 20 GPUs reserved, up to 28 under load"


def test_json_and_region_filter(env: EmulatorProcess, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    code, out, _ = run(capsys, "--json", "--prices", str(prices))
    assert code == 0
    data = json.loads(out)
    by_id = {e["id"]: e for e in data["endpoints"]}
    assert by_id["ep-ds"]["hourly_cost_min"] is None and by_id["ep-ds"]["reserved_gpus"] == 8
    assert by_id["ep-off"]["reserved_gpus"] == 0
    assert data["total"] == {"endpoints": 4, "reserved_gpus": 20, "max_gpus_under_load": 28, "hourly_cost_min": 48.0,
                             "hourly_cost_max": 82.0, "currency": "USD", "cost_partial": True,
                             "cost_unknown_for": ["ep-ds"]}
    assert data["regions"]["us-central1"]["cost_partial"] is False
    code, out, _ = run(capsys, "--json", "--region", "us-central1")
    data = json.loads(out)
    assert sorted(e["id"] for e in data["endpoints"]) == ["ep-llama", "ep-off"]
    assert data["total"] == {"endpoints": 2, "reserved_gpus": 4, "max_gpus_under_load": 8}  # no table: no cost keys


def test_bad_price_table_and_bad_token_are_clear_errors_without_the_token(
        env: EmulatorProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "--prices", '{"currency": "USD", "prices": {"h100": 3.5}}')
    assert code == 1 and "--prices: tokenfactory:gpuHourlyPrices: 'prices' key 'h100' is not a GPU type" in err
    code, _, err = run(capsys, "--prices", "/nonexistent/prices.json")
    assert code == 1 and "neither inline JSON nor a readable file" in err
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-wrong-token-0000")
    code, _, err = run(capsys)
    assert code == 1 and "401" in err and "tf-wrong-token-0000" not in err


def test_runs_as_a_process(env: EmulatorProcess) -> None:
    done = subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.account", "--prices", json.dumps(PRICES)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert API_KEY not in done.stdout + done.stderr
    assert "total: 4 endpoint(s), 20 GPUs reserved" in done.stdout


def test_the_docs_sample_is_what_the_command_prints(env: EmulatorProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--prices", json.dumps(PRICES))
    assert code == 0
    doc = (Path(__file__).resolve().parents[2] / "sdk-docs" / "account-view.md").read_text()
    sample = doc.split("```text\n", 1)[1].split("```", 1)[0]
    printed = out.replace(env.base_url, "https://api.tokenfactory.nebius.com")
    assert sample == printed
