"""The emulator as an operator runs it: CLI, API key, loopback only, persistence across restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.server import is_loopback
from pulumi_tokenfactory.emulator.testing import EmulatorProcess, EmulatorStartError
from tests.emulator.shapes import ENDPOINTS, created, detail_of, listed, status_of

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}
EMULATOR = [sys.executable, "-m", "pulumi_tokenfactory.emulator"]


def test_port_zero_prints_exactly_one_url_line_and_sigterm_stops_cleanly() -> None:
    process = subprocess.Popen([*EMULATOR, "--port", "0", "--provision-seconds", "0.1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Token Factory emulator listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert int(url.rsplit(":", 1)[1]) > 0
        assert httpx.get(f"{url}/v0/dedicated_endpoints", trust_env=False).json() == {"data": [], "object": "list"}
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert stdout == "", "nothing but the URL line may reach stdout"


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8", "example.com"])
def test_a_non_loopback_host_is_refused(host: str) -> None:
    done = subprocess.run([*EMULATOR, "--host", host, "--port", "0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr and "--allow-non-loopback" in done.stderr
    assert done.stdout == ""


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.1.2.3", "192.168.0.1", "no-such-host.invalid"))


def test_bad_arguments_fail_fast() -> None:
    for args in (["--port", "70000"], ["--provision-seconds", "-1"], ["--log-level", "loud"]):
        done = subprocess.run([*EMULATOR, *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and done.stdout == "", args


def test_api_key_is_required_everywhere_and_never_logged(emulator_factory: Any) -> None:
    key = "tf-secret-KEY-0123456789"
    emu: EmulatorProcess = emulator_factory(api_key=key)
    good = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=emu.base_url, trust_env=False, timeout=5) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": key}, {"Authorization": "Basic x"}):
            for method, path in (("GET", ENDPOINTS), ("POST", ENDPOINTS), ("GET", f"{ENDPOINTS}/templates"),
                                 ("GET", "/v1/models"), ("GET", "/_emulator/requests"), ("POST", "/_emulator/reset")):
                response = client.request(method, path, headers=headers, json=SEED if method == "POST" else None)
                assert response.status_code == 401, (method, path, headers)
                assert response.headers["www-authenticate"] == "Bearer"
                if path.startswith("/_emulator"):  # the operator routes keep the emulator's own error shape
                    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
                elif path.startswith("/v1/"):  # OpenAI's
                    assert response.json()["error"]["code"] == "unauthorized"
                else:
                    assert "API token" in detail_of(response, 401)
        assert emu.endpoints() == [], "a refused request must not act"
        assert client.post(ENDPOINTS, json={**SEED, "description": f"mentions {key}"}, headers=good).status_code == 201
        assert client.get(ENDPOINTS, headers={"authorization": f"bearer {key}"}).status_code == 200
        # The schema is public, as the real API serves it; nothing else is.
        assert client.get("/openapi.json").status_code == 200
        assert client.post("/openapi.json", headers={}).status_code == 401
    log = emu.requests()
    assert {r["status"] for r in log} == {401, 201, 200}
    assert key not in json.dumps(log), "neither headers nor the token may reach the request log"
    assert key not in emu.logs()


def test_state_file_keeps_endpoints_across_restart_and_crash(emulator_factory: Any, tmp_path: Path) -> None:
    state = tmp_path / "state" / "emulator.json"
    emu: EmulatorProcess = emulator_factory(provision_seconds=0.3, state_file=state)
    with httpx.Client(trust_env=False, timeout=5) as client:
        client.base_url = httpx.URL(emu.base_url)
        kept = created(client.post(ENDPOINTS, json=SEED))
        client.patch(f"{ENDPOINTS}/{kept['id']}", json={"name": "renamed"})
        saved = json.loads(state.read_text())
        assert saved["version"] == 2 and saved["endpoints"][0]["spec"]["name"] == "renamed"
        emu.restart()
        client.base_url = httpx.URL(emu.base_url)
        [after] = listed(client)
        assert after["id"] == kept["id"] and after["routing_key"] == kept["routing_key"]
        assert after["name"] == "renamed" and status_of(after) == "running"
        gone = created(client.post(ENDPOINTS, json={**SEED, "name": "second"}))
        client.delete(f"{ENDPOINTS}/{gone['id']}")
        emu.kill()
        emu.start()
        client.base_url = httpx.URL(emu.base_url)
        time.sleep(0.2)
        assert [e["id"] for e in listed(client)] == [kept["id"]]
    leftovers = [p.name for p in state.parent.iterdir() if p != state]
    assert leftovers == [], "atomic writes leave no temporary files behind"


def test_without_a_state_file_a_restart_forgets(emulator_factory: Any) -> None:
    emu: EmulatorProcess = emulator_factory()
    httpx.post(f"{emu.base_url}{ENDPOINTS}", json=SEED, trust_env=False).raise_for_status()
    emu.restart()
    assert emu.endpoints() == []


def test_a_corrupt_state_file_stops_the_start_rather_than_losing_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{ not json")
    with pytest.raises(EmulatorStartError, match="not valid JSON"):
        EmulatorProcess(state_file=state).start()
    assert state.read_text() == "{ not json"


def test_the_emulator_exits_when_its_parent_dies(tmp_path: Path) -> None:
    """`--exit-with-parent`: a test runner killed with SIGKILL leaves no emulator behind."""
    pid_file = tmp_path / "pid"
    parent = textwrap_parent(pid_file)
    runner = subprocess.Popen([sys.executable, "-c", parent])
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the parent never started the emulator"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the emulator outlived its parent"
        time.sleep(0.1)


def textwrap_parent(pid_file: Path) -> str:
    return (
        "import time\n"
        "from pulumi_tokenfactory.emulator.testing import EmulatorProcess\n"
        "emu = EmulatorProcess().start()\n"
        f"open({str(pid_file)!r}, 'w').write(str(emu.pid))\n"
        "time.sleep(60)\n"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
