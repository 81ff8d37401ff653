"""The real policy pack as the Pulumi CLI starts it, for the gRPC-level suites (tests/engine/test_policy_*grpc.py).

``python examples/policy-pack/__main__.py`` with no ``-u`` and no ``PYTHONUNBUFFERED`` (the pack
must flush its port line itself), the port read from stdout, an Analyzer stub on it. Numbers
travel as floats in protobuf Structs and an unknown value is the engine's sentinel string.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.endpoints import wire_endpoint

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = REPO / "examples" / "policy-pack"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def endpoint(**changes: Any) -> dict[str, Any]:
    return wire_endpoint(**{"__provider": "gAWVKAAAAAAAAACMG3B1bHVtaV90b2tlbmZhY3Rvcnku", "name": "team-search-llama",
                            **changes})


def urn(name: str) -> str:
    return f"urn:pulumi:dev::gpu::{RESOURCE_TYPE}::{name}"


def _read_port(proc: subprocess.Popen[bytes], stderr_path: Path, timeout: float) -> int:
    lines: queue.Queue[bytes] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        line = b""
    if not line.strip().isdigit():
        pytest.fail(f"pack printed no port (got {line!r}); stderr:\n{stderr_path.read_text()}")
    return int(line)


@contextmanager
def running_pack(workdir: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack in a subprocess (its stderr kept in ``workdir``), and a stub talking to it; killed on exit."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONUNBUFFERED", None)
    stderr_path = workdir / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "__main__.py"], cwd=PACK_DIR, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
    try:
        port = _read_port(proc, stderr_path, timeout=30)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=10)
