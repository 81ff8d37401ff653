"""README's main job (scripts/demo.sh -> devtools.cli_demo) on the real CLI: it runs, and ends clean."""

from __future__ import annotations

import re
import subprocess
import sys

from devtools.realcli import REPO, CliInstall


def test_demo_walks_the_lifecycle_and_leaves_nothing(pulumi_cli: CliInstall) -> None:
    done = subprocess.run([sys.executable, "-m", "devtools.cli_demo", "--cli-bin", str(pulumi_cli.bin_dir),
                           "--provision-seconds", "0.5"], cwd=REPO, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for shown in ("Resources:\n       + 2 to create", "~ 1 updated", "- 2 deleted", "0 endpoint(s) left"):
        assert shown in out
    assert re.search(r"POST /v0/dedicated_endpoints +1\n", out), "one create in the whole lifecycle"
    assert re.search(r"DELETE /v0/dedicated_endpoints/\{id\} +1\n", out)
