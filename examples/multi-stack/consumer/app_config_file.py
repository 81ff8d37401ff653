"""`AppConfigFile`: a tiny dynamic resource standing in for "the application that uses the endpoint".

It renders a JSON config file holding the OpenAI-compatible `base_url` and
the `model` (the endpoint's routing key), which an application would read
at start-up. Any real resource (a Kubernetes Secret, a cloud function's
environment, a parameter store entry) would take the same two values.

Why a module of its own and not `__main__.py`: Pulumi pickles the provider
object with dill into the state. A class defined in `__main__` is pickled
by value, code and all, so later edits never reach existing stacks and the
bytes change with every edit. A class from an importable module is pickled
as a reference (`app_config_file.AppConfigFileProvider`), which the
provider host imports from the project folder (its working directory).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.output import Unknown
from pulumi.runtime import rpc

#: Keys the provider writes into the file besides `settings`.
FILE_KEYS = ("base_url", "model")


def render(base_url: str, model: str, settings: dict[str, Any] | None = None) -> str:
    """The file's exact text: sorted keys, so the same inputs always give the same bytes."""
    document = {**(settings or {}), "base_url": base_url, "model": model}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _is_unknown(value: Any) -> bool:
    """A value another resource has not computed yet (during preview): the SDK's own marker or the engine's
    sentinel string (by type, not by class name, as the endpoint provider does)."""
    return isinstance(value, Unknown) or value == rpc.UNKNOWN


class AppConfigFileProvider(pulumi.dynamic.ResourceProvider):
    """Create, update, read and delete one JSON file. Holds no state, so it pickles as a bare reference."""

    def _write(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Write the file; return its absolute path (the resource id) and the outputs.

        `path` is echoed as given (relative paths are relative to the project folder, the
        provider host's working directory), so that diffs compare like with like.
        """
        path = Path(props["path"]).resolve()
        text = render(props["base_url"], props["model"], props.get("settings"))
        _write_atomically(path, text)
        return str(path), {
            "path": props["path"],
            "base_url": props["base_url"],
            "model": props["model"],
            "settings": props.get("settings") or {},
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = [
            pulumi.dynamic.CheckFailure(key, f"{key} must be a non-empty string")
            for key in ("path", *FILE_KEYS)
            if not _is_unknown(news.get(key)) and not (isinstance(news.get(key), str) and news.get(key))
        ]
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        id_, outs = self._write(props)
        return pulumi.dynamic.CreateResult(id_, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("path", *FILE_KEYS, "settings")
                   if _is_unknown(news.get(key)) or (olds.get(key) or None) != (news.get(key) or None)]
        # A new path is a new file; the old one is deleted after the new one is written.
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "path"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._write(news)[1])

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        path = Path(id_)
        if not path.exists():
            return pulumi.dynamic.ReadResult("", {})  # gone: the engine drops it from the state
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        settings = {k: v for k, v in document.items() if k not in FILE_KEYS}
        return pulumi.dynamic.ReadResult(id_, {
            **props,
            "path": props.get("path") or id_,
            "base_url": document.get("base_url"),
            "model": document.get("model"),
            "settings": settings,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        })

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class AppConfigFile(pulumi.dynamic.Resource, module="example", name="AppConfigFile"):
    """A JSON file telling an application which OpenAI-compatible endpoint and model to use."""

    path: pulumi.Output[str]
    """Path of the file as given (the resource id is the absolute path)."""
    base_url: pulumi.Output[str]
    """OpenAI-compatible base URL written to the file."""
    model: pulumi.Output[str]
    """The model (a dedicated endpoint's routing key) written to the file."""
    settings: pulumi.Output[dict[str, Any]]
    """Extra keys written to the file."""
    sha256: pulumi.Output[str]
    """Digest of the file's content."""

    def __init__(self, resource_name: str, *, path: pulumi.Input[str], base_url: pulumi.Input[str],
                 model: pulumi.Input[str], settings: pulumi.Input[dict[str, Any]] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            AppConfigFileProvider(),
            resource_name,
            {"path": path, "base_url": base_url, "model": model, "settings": settings or {}, "sha256": None},
            opts,
        )
