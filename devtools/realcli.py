"""The real Pulumi CLI for acceptance tests: find or build it, and run programs through it offline.

The CLI comes from `scripts/pulumi-cli.sh` (a supported `pulumi` on PATH, or the pinned
version built from the Go module proxy into a cache outside the clone). The Python
language host is a Go module of its own that the proxy here refuses, so programs run as
Automation API *inline* programs: the CLI (`pulumi up --client=...`) is the real engine and
talks to the Automation API's in-process language server; the dynamic provider runs in
the real `pulumi-resource-pulumi-python` plugin (`python -m pulumi.dynamic`), launched by
the engine. Everything is offline: a file backend and `PULUMI_HOME` in a temporary
directory, one passphrase for all stacks (so StackReference can decrypt), no update check,
no plugin downloads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[1]
CLI_SCRIPT = REPO / "scripts" / "pulumi-cli.sh"
#: Exit status of scripts/pulumi-cli.sh when there is no CLI and no Go toolchain to build one.
NO_CLI_EXIT = 3
PASSPHRASE = "acceptance-passphrase"


class CliUnavailable(RuntimeError):
    """No usable Pulumi CLI here (and none could be built)."""


@dataclass(frozen=True)
class CliInstall:
    """A directory holding `pulumi` and the dynamic-provider plugin script."""

    bin_dir: Path
    version: str

    def command(self) -> auto.PulumiCommand:
        # PulumiCommand runs <root>/bin/pulumi.
        if self.bin_dir.name != "bin":
            raise CliUnavailable(f"{self.bin_dir} is not named bin/, as the Automation API requires")
        return auto.PulumiCommand(root=str(self.bin_dir.parent))


@cache
def locate_cli() -> CliInstall:
    """`PULUMI_CLI_BIN` when set (CI sets it after running the script), else what the script prints."""
    given = os.environ.get("PULUMI_CLI_BIN")
    if given:
        bin_dir = Path(given)
    else:
        done = subprocess.run(["bash", str(CLI_SCRIPT)], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=3600, check=False)
        if done.returncode == NO_CLI_EXIT:
            raise CliUnavailable(done.stderr.strip())
        if done.returncode != 0:
            raise RuntimeError(f"scripts/pulumi-cli.sh failed ({done.returncode}):\n{done.stderr}")
        bin_dir = Path(done.stdout.strip().splitlines()[-1])
    pulumi = bin_dir / "pulumi"
    if not pulumi.is_file():
        raise CliUnavailable(f"no pulumi in {bin_dir}")
    version = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, check=True).stdout.strip()
    return CliInstall(bin_dir=bin_dir, version=version)


Program = Callable[[], None]


@dataclass
class Backend:
    """One file backend, `PULUMI_HOME` and passphrase, shared by every stack a test makes."""

    cli: CliInstall
    root: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in ("backend", "home", "work"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._command = self.cli.command()

    @property
    def env(self) -> dict[str, str]:
        """What the CLI and every plugin it starts see, on top of this process's environment."""
        return {
            "PULUMI_BACKEND_URL": f"file://{self.root / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(self.root / "home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The dynamic-provider plugin runs `$PULUMI_PYTHON_CMD -m pulumi.dynamic`: this venv's Python.
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": f"{self.cli.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            # The token comes from stack config only; an ambient one would hide a config bug.
            "TOKENFACTORY_API_KEY": "",
            **self.extra_env,
        }

    def work_dir(self, project: str) -> Path:
        path = self.root / "work" / project
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stack(self, project: str, stack: str, program: Program, *,
              config: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None) -> auto.Stack:
        """Create (or select) `project/stack` running `program` inline, with the given stack config."""
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.work_dir(project)),
            pulumi_home=str(self.root / "home"),
            env_vars=self.env,
            pulumi_command=self._command,
            project_settings=auto.ProjectSettings(name=project, runtime="python"),
        )
        created = auto.create_or_select_stack(stack, project, program=program, opts=options)
        values = {key: auto.ConfigValue(value) for key, value in (config or {}).items()}
        values.update({key: auto.ConfigValue(value, secret=True) for key, value in (secrets or {}).items()})
        if values:
            created.set_all_config(values)
        return created

    def run(self, project: str, *args: str, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A raw CLI command in the project's directory, as a user would type it (`cancel`, `stack export`, ...)."""
        done = subprocess.run([str(self.cli.bin_dir / "pulumi"), *args, "--non-interactive"],
                              cwd=self.work_dir(project), env={**os.environ, **self.env}, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def files_text(self) -> str:
        """Every file under the backend and PULUMI_HOME, as text (for secret scans)."""
        chunks: list[str] = []
        for top in (self.root / "backend", self.root / "home", self.root / "work"):
            for path in sorted(top.rglob("*")):
                if path.is_file():
                    chunks.append(path.read_bytes().decode(errors="replace"))
        return "\n".join(chunks)


def resource_name(urn: str) -> str:
    """The logical name at the end of a URN."""
    return urn.rsplit("::", 1)[-1]


def stack_resources(stack: auto.Stack) -> dict[str, dict[str, Any]]:
    """The stack's resources by logical name, as `pulumi stack export` shows them (Stack resource excluded)."""
    deployment = stack.export_stack().deployment or {}
    return {resource_name(r["urn"]): r for r in deployment.get("resources", [])
            if r.get("type") not in ("pulumi:pulumi:Stack",) and not r["type"].startswith("pulumi:providers:")}
