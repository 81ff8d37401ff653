"""A deliberately tiny dynamic provider used only by the harness self-tests.

It lives in an importable module (``tests.harness.sample_provider``) so that dill pickles
it *by reference*, exactly like the real provider class shipped in ``pulumi_tokenfactory``.
Every method echoes what it received (value types, timestamps, pid) so the self-tests
can observe what the provider host really hands to provider code, rather than trusting
the harness's own view of the request.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dyn
from pulumi.output import Unknown

IMPORT_ROOT = Path(__file__).resolve().parents[2]
"""The checkout's root: a provider host needs it on its PYTHONPATH (``ProviderHost(pythonpath=...)``) to
unpickle `SampleProvider`, which is pickled by reference to this module of the test tree."""
INTERNAL_KEYS = ("__provider", "_types")


def _user_keys(props: dict[str, Any]) -> dict[str, Any]:
    """Props without the host-managed/internal keys, so echoes stay readable."""
    return {k: v for k, v in props.items() if k not in INTERNAL_KEYS}


def _type_names(props: dict[str, Any]) -> dict[str, str]:
    """``type(x).__name__`` of every user value: proves ints arrive as floats."""
    return {k: type(v).__name__ for k, v in _user_keys(props).items()}


def _log(message: str) -> None:
    """Progress line on stderr, which the engine (and the harness) capture as plugin logs."""
    print(f"sample-provider: {message}", file=sys.stderr, flush=True)


class SampleProvider(dyn.ResourceProvider):
    """Echoing provider; behaviour is driven by magic input keys (``fail``, ``sleep``...)."""

    def __init__(self, tag: str = "sample") -> None:
        super().__init__()
        self.tag = tag
        self.api_key: str | None = None
        self.greeting: str | None = None
        self.configure_calls = 0

    def configure(self, req: dyn.ConfigureRequest) -> None:
        # Namespaced key: independent of PULUMI_PROJECT.
        self.api_key = req.config.get("sample:apiKey")
        # Un-namespaced key: resolved against the host's PULUMI_PROJECT.
        self.greeting = req.config.get("greeting")
        self.configure_calls += 1
        _log(f"configured (api key present: {self.api_key is not None})")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures: list[dyn.CheckFailure] = []
        size = news.get("size")
        if size is not None and not isinstance(size, Unknown):
            if not isinstance(size, (int, float)) or isinstance(size, bool):
                failures.append(dyn.CheckFailure("size", "size must be a number"))
            elif size < 0:
                failures.append(dyn.CheckFailure("size", f"size must be >= 0, got {size:g}"))
        inputs = dict(news)
        inputs["_types"] = _type_names(news)
        return dyn.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        new_user = _user_keys(news)
        if any(isinstance(v, Unknown) for v in new_user.values()):
            return dyn.DiffResult(changes=None)
        old_user = _user_keys(olds)
        # Compare only what the user controls (the new inputs); outputs carry extra fields.
        changed = [k for k in sorted(new_user) if old_user.get(k) != new_user[k]]
        replaces = [k for k in changed if k == "region"]
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["region"],
            delete_before_replace=bool(replaces) or None,
        )

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        started = time.time()
        if props.get("fail"):
            raise ValueError(str(props["fail"]))
        delay = props.get("sleep")
        if isinstance(delay, (int, float)):
            time.sleep(delay)
        name = props.get("name", "thing")
        _log(f"created {name}")
        outs = dict(_user_keys(props))
        outs.update(
            types=_type_names(props),
            started=started,
            finished=time.time(),
            pid=os.getpid(),
            api_key_ok=self.api_key == "s3cret-value",
            greeting=self.greeting,
            configure_calls=self.configure_calls,
        )
        return dyn.CreateResult(f"sample-{name}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        if id_ == "gone":
            # The documented way to say "resource no longer exists": empty id *and* a dict.
            return dyn.ReadResult("", {})
        if id_ == "gone-none":
            # What many people write; the 3.272 host crashes on it (outs must be a dict).
            return dyn.ReadResult(None, None)
        outs = dict(_user_keys(props))
        outs["read"] = True
        inputs = {k: v for k, v in outs.items() if k in ("name", "size", "region")}
        return dyn.ReadResult(id_, outs, inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        outs = dict(_user_keys(news))
        outs["previous_size"] = olds.get("size")
        outs["types"] = _type_names(news)
        # Plain print(): lands on the host's stdout after the port line, which the engine relays as logs.
        print(f"sample-provider stdout: updated {_id}", flush=True)
        return dyn.UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("fail_delete"):
            raise RuntimeError(f"cannot delete {id_}: {props['fail_delete']}")
        _log(f"deleted {id_}")


class SampleThing(dyn.Resource, module="sample", name="Thing"):
    """Registers as ``pulumi-python:dynamic/sample:Thing``; used by the mocks self-tests."""

    size: pulumi.Output[float]

    def __init__(
        self,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(SampleProvider(), name, {"size": None, **props}, opts)
