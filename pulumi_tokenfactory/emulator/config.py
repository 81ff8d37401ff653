"""Settings of one emulator instance, shared by the CLI and in-process tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, get_args

#: Read when --api-key is not given, so the token need not appear in a process list.
API_KEY_ENV = "TOKENFACTORY_EMULATOR_API_KEY"
DEFAULT_PROVISION_SECONDS = 2.0
#: 1 MiB: a create body is a few hundred bytes, a chat request rarely more than a few kilobytes.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LOG_BODY_BYTES = 4096
#: Which answers the management routes give: the API as published (its schema and reference), or the shapes
#: this emulator spoke before them, kept so that a client's tolerance of those older forms stays testable.
ApiShapes = Literal["published", "legacy"]


@dataclass(frozen=True)
class EmulatorConfig:
    """How long each transition takes (None: derived from `provision_seconds`, one knob for all) and what the
    server demands of its callers."""

    provision_seconds: float = DEFAULT_PROVISION_SECONDS
    update_seconds: float | None = None
    stop_seconds: float | None = None
    delete_seconds: float | None = None
    #: How long a (re)started endpoint's routing key still answers inference 404 once `running` (replicas warming
    #: up; `--routable-seconds`); 0: routable the moment it is running.
    routable_seconds: float = 0.0
    api_key: str | None = field(default=None, repr=False)
    state_file: str | os.PathLike[str] | None = None
    #: The request log keeps only this many recent entries, so a long-running demo cannot grow without bound.
    request_log_limit: int = 10_000
    #: A request body larger than this is refused with 413 before any route sees it (`--max-body-bytes`).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Of each body, the request log keeps at most this many bytes: 10 000 entries stay within about 50 MB.
    request_log_body_bytes: int = DEFAULT_LOG_BODY_BYTES
    #: Host header names accepted besides loopback ones (the `--host` given); `"*"` accepts any, for
    #: `--allow-non-loopback`, where clients reach the emulator by names it cannot know.
    trusted_hosts: tuple[str, ...] = ()
    #: "published" (the default) or "legacy" (`--legacy-shapes`): see sdk-docs/emulator.md, "Answer shapes".
    api_shapes: ApiShapes = "published"

    def __post_init__(self) -> None:
        if self.api_shapes not in get_args(ApiShapes):
            raise ValueError(f"api_shapes must be one of {', '.join(get_args(ApiShapes))}, got {self.api_shapes!r}")
        for name in ("provision_seconds", "update_seconds", "stop_seconds", "delete_seconds", "routable_seconds"):
            value = getattr(self, name)
            if value is not None and (value != value or value < 0):  # NaN or negative
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        for name in ("request_log_limit", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.request_log_body_bytes < 0:
            raise ValueError(f"request_log_body_bytes must be >= 0, got {self.request_log_body_bytes!r}")

    @property
    def legacy(self) -> bool:
        return self.api_shapes == "legacy"

    @property
    def update_duration(self) -> float:
        return self.update_seconds if self.update_seconds is not None else self.provision_seconds / 4

    @property
    def stop_duration(self) -> float:
        return self.stop_seconds if self.stop_seconds is not None else self.provision_seconds / 4

    @property
    def delete_duration(self) -> float:
        return self.delete_seconds if self.delete_seconds is not None else self.provision_seconds / 5
