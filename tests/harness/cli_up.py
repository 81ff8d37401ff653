"""Run `pulumi up` of an example on an existing stack, in a process of its own.

    python -m tests.harness.cli_up BIN_DIR BACKEND_ROOT PROJECT STACK EXAMPLE

For tests that kill the CLI mid-run: the Automation API's inline program and its language
server live in this process, so what the killed run leaves behind dies with it instead of
lingering in the test runner. The stack (and its config) must exist already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devtools.programs import example
from devtools.realcli import Backend, CliInstall


def main(argv: list[str]) -> int:
    bin_dir, root, project, stack_name, example_name = argv
    version = subprocess.run([str(Path(bin_dir) / "pulumi"), "version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    extra_env = json.loads(Path(root, "extra_env.json").read_text()) if Path(root, "extra_env.json").exists() else {}
    backend = Backend(CliInstall(Path(bin_dir), version), Path(root), extra_env=extra_env)
    stack = backend.stack(project, stack_name, example(example_name))
    stack.up(on_output=print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
