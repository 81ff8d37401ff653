"""The provider host exits when the engine's pipe on its stdin closes, and only then."""

from __future__ import annotations

import subprocess
import sys
import time

PROGRAM = ("import time; from pulumi_tokenfactory.host.enginewatch import exit_when_the_engine_is_gone as watch; "
           "watch(); watch(); time.sleep(30)")


def test_exits_when_the_engine_closes_its_pipe_even_with_a_dead_stderr() -> None:
    host = subprocess.Popen([sys.executable, "-c", PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert host.stdin is not None and host.stderr is not None
    time.sleep(1.0)
    assert host.poll() is None, "alive while the engine holds the pipe"
    host.stderr.close()  # the engine read the host's stderr too: gone with it
    host.stdin.close()
    assert host.wait(10) == 0


def test_a_host_without_the_engines_pipe_is_left_alone() -> None:
    host = subprocess.Popen([sys.executable, "-c", PROGRAM], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        assert host.poll() is None, "end-of-file on /dev/null says nothing about an engine"
    finally:
        host.kill()
        host.wait(10)
