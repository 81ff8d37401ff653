"""The OpenAI-compatible routes through the official `openai` client, and the API description's snippets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import httpx
import openai
import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.emulator.shapes import ENDPOINTS, as_listed, created, status_of

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}
QUESTION = "Explain the difference between LLM fine-tuning and RAG."


def openai_client(emu: EmulatorProcess, api_key: str = "any-token") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{emu.base_url}/v1/", api_key=api_key, max_retries=0)


def create(emu: EmulatorProcess, **changes: Any) -> dict[str, Any]:
    return created(httpx.post(f"{emu.base_url}{ENDPOINTS}", json={**SEED, **changes}, trust_env=False))


def stop(emu: EmulatorProcess, endpoint: dict[str, Any]) -> None:
    """Disable the endpoint (the published create has no `enabled`: a PATCH is the way to stop one)."""
    response = httpx.patch(f"{emu.base_url}{ENDPOINTS}/{endpoint['id']}", json={"enabled": False}, trust_env=False)
    assert response.status_code == 200 and status_of(response.json()) == "stopping", response.text


def test_openai_client_gets_404_while_starting_and_an_answer_once_running(clean_emulator: EmulatorProcess) -> None:
    endpoint = create(clean_emulator)
    client = openai_client(clean_emulator)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model=endpoint["routing_key"], messages=[{"role": "user", "content": "hi"}])
    assert "starting" in str(info.value)
    assert client.models.list().data == []

    clean_emulator.advance_clock(60)
    response = client.chat.completions.create(model=endpoint["routing_key"],
                                              messages=[{"role": "user", "content": QUESTION}])
    assert response.object == "chat.completion"
    assert response.model == endpoint["routing_key"]
    [choice] = response.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "openai/gpt-oss-120b" in (choice.message.content or "") and QUESTION in (choice.message.content or "")
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens > 0
    assert [m.id for m in client.models.list().data] == [endpoint["routing_key"]]
    assert client.models.retrieve(endpoint["routing_key"]).id == endpoint["routing_key"]


def test_unknown_stopped_and_deleted_models_are_404(clean_emulator: EmulatorProcess) -> None:
    client = openai_client(clean_emulator)
    stopped = create(clean_emulator)
    stop(clean_emulator, stopped)
    running = create(clean_emulator)
    clean_emulator.advance_clock(60)
    assert [status_of(as_listed(e)) for e in clean_emulator.endpoints()] == ["stopped", "running"]
    httpx.delete(f"{clean_emulator.base_url}{ENDPOINTS}/{running['id']}", trust_env=False)
    for model in ("dedicated/openai/gpt-oss-120b-nosuchkey000", stopped["routing_key"], running["routing_key"]):
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def test_streaming_and_max_tokens(clean_emulator: EmulatorProcess) -> None:
    endpoint = create(clean_emulator)
    clean_emulator.advance_clock(60)
    client = openai_client(clean_emulator)
    messages: Any = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=endpoint["routing_key"], messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model=endpoint["routing_key"], messages=messages, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(text.split())
    short = client.chat.completions.create(model=endpoint["routing_key"], messages=messages, max_tokens=3)
    assert short.choices[0].finish_reason == "length" and len((short.choices[0].message.content or "").split()) == 3


def test_bad_chat_requests_are_400_in_openai_shape(clean_emulator: EmulatorProcess) -> None:
    client = openai_client(clean_emulator)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="x", messages=[])
    assert info.value.param == "messages"


def test_openai_client_sees_401_with_a_wrong_key(emulator_factory: Any) -> None:
    emu = emulator_factory(api_key="right-key")
    with pytest.raises(openai.AuthenticationError):
        openai_client(emu, api_key="wrong-key").models.list()
    assert openai_client(emu, api_key="right-key").models.list().data == []


# -- the API description's own snippets ------------------------------------------------------------

#: The Python snippets of seeds/dedicated-endpoints-api.txt, verbatim, in order. Only BASE_URL is
#: substituted, and the glue between snippets (endpoint_id, the routing key, waiting) is marked; the glue
#: (GLUE_IDS, GLUE_WAIT) depends on the answer shapes (`GLUE`), and the published API also needs a region.
SEED_SNIPPETS = '''
import requests, os, json

BASE_URL = "https://api.tokenfactory.nebius.com"
API_TOKEN = os.environ.get("API_TOKEN")

headers = {"Authorization": f"Bearer {API_TOKEN}"}
url = f"{BASE_URL}/v0/dedicated_endpoints/templates"

r = requests.get(url, headers=headers)
print(json.dumps(r.json(), indent=2))
print("=== create")

payload = {
    "name": "GPT-120B Endpoint",
    "description": "Dedicated GPT-120B for internal apps",
    "model_name": "openai/gpt-oss-120b",
    "flavor_name": "base",
    "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1,
    "scaling": {
        "min_replicas": 1,
        "max_replicas": 2
    }
}

headers = {
    "Authorization": f"Bearer {API_TOKEN}",
    "Content-Type": "application/json"
}

r = requests.post(f"{BASE_URL}/v0/dedicated_endpoints", headers=headers, json=payload)
print(json.dumps(r.json(), indent=2))
print("=== list")

GLUE_IDS

r = requests.get(f"{BASE_URL}/v0/dedicated_endpoints", headers=headers)
print(json.dumps(r.json(), indent=2))
print("=== inference")

import time  # glue: startup takes a while; the API answers 404 meanwhile
GLUE_WAIT

from openai import OpenAI
import os

API_TOKEN = os.environ.get("API_TOKEN")
client = OpenAI(
    base_url="https://api.tokenfactory.nebius.com/v1/",
    api_key=API_TOKEN
)

response = client.chat.completions.create(
    model="dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3",  # use routing_key from endpoint creation
    messages=[{"role": "user", "content": "Explain the difference between LLM fine-tuning and RAG."}]
)

print(response.choices[0].message.content)
print("=== patch")

payload = {
    "name": "GPT-120B Endpoint (updated)",
    "scaling": {"min_replicas": 2, "max_replicas": 4}
}

r = requests.patch(
    f"{BASE_URL}/v0/dedicated_endpoints/{endpoint_id}",
    headers=headers,
    json=payload
)
print(json.dumps(r.json(), indent=2))
print("=== delete")

r = requests.delete(f"{BASE_URL}/v0/dedicated_endpoints/{endpoint_id}", headers=headers)
print(r.status_code)
'''


#: Per answer shape: the glue that reads the create's ids, and the glue that waits until it serves.
GLUE: dict[str, dict[str, str]] = {
    "published": {
        "GLUE_IDS": ('endpoint_id, routing_key = r.json()["endpoint"]["id"], '
                     'r.json()["endpoint"]["routing_key"]  # glue'),
        "GLUE_WAIT": ("def readiness():  # glue: the published API has no GET of one endpoint; read it in the list\n"
                      "    listed = requests.get(f\"{BASE_URL}/v0/dedicated_endpoints\", headers=headers).json()\n"
                      "    return [e['deployment']['readiness'] for e in listed['data'] if e['id'] == endpoint_id]\n"
                      "while readiness() != ['ready']:\n"
                      "    time.sleep(0.1)"),
        '"gpu_count": 1,\n': ('"gpu_count": 1,\n'
                              '    "region": "eu-north1",  # glue: the published create requires a region\n'),
    },
    "legacy": {
        "GLUE_IDS": 'endpoint_id, routing_key = r.json()["id"], r.json()["routing_key"]  # glue',
        "GLUE_WAIT": ('while requests.get(f"{BASE_URL}/v0/dedicated_endpoints/{endpoint_id}", '
                      'headers=headers).json()["status"] != "running":\n    time.sleep(0.1)'),
    },
}


@pytest.mark.parametrize("shapes", list(GLUE))
def test_the_api_descriptions_snippets_run_against_the_emulator(emulator_factory: Any, shapes: str) -> None:
    token = "seed-token-1234"
    emu: EmulatorProcess = emulator_factory(api_key=token, provision_seconds=0.3, api_shapes=shapes)
    script = (SEED_SNIPPETS.replace("https://api.tokenfactory.nebius.com", emu.base_url)
              .replace('model="dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3"', "model=routing_key"))
    for marker, glue in GLUE[shapes].items():
        assert marker in script, marker
        script = script.replace(marker, glue)
    env = {**os.environ, "API_TOKEN": token, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    sections = dict(zip(["templates", "create", "list", "inference", "patch", "delete"],
                        done.stdout.split("\n=== "), strict=True))
    published = shapes == "published"
    templates = json.loads(sections["templates"])
    names = [t["name"] for t in templates["data"]] if published else [t["model_name"] for t in templates["templates"]]
    assert "openai/gpt-oss-120b" in names
    made = json.loads(sections["create"].removeprefix("create\n"))
    endpoint = made["endpoint"] if published else made
    assert endpoint["routing_key"].startswith("dedicated/openai/gpt-oss-120b-")
    assert (status_of(endpoint) if published else endpoint["status"]) == "starting"
    listed = json.loads(sections["list"].removeprefix("list\n"))
    assert [e["id"] for e in listed["data" if published else "endpoints"]] == [endpoint["id"]]
    answer = sections["inference"].removeprefix("inference\n")
    assert "openai/gpt-oss-120b" in answer and "fine-tuning and RAG" in answer
    patched = json.loads(sections["patch"].removeprefix("patch\n"))
    assert patched["name"] == "GPT-120B Endpoint (updated)"
    assert patched["scaling"] == {"min_replicas": 2, "max_replicas": 4}
    assert (status_of(patched) if published else patched["status"]) == "updating"
    assert sections["delete"].strip() == "delete\n200"
    assert token not in json.dumps(emu.requests()), "the request log must never hold the token"
    assert token not in emu.logs()
