"""End the provider host when the Pulumi engine that started it is gone.

The engine starts every plugin with a pipe as its standard input, holds the writing end for
as long as it runs, and never writes to it (`pkg/resource/plugin/plugin.go`, `cmd.StdinPipe()`).
When the engine dies without stopping its plugins (`kill -9` of the CLI, a lost CI runner),
the pipe reaches end-of-file. Nothing can call the host any more, yet the dynamic-provider
host would otherwise serve forever: an orphaned process per interrupted `pulumi up`. So a
daemon thread waits for that end-of-file and exits the process.

Only a pipe is watched: a host started with another standard input (a terminal, /dev/null)
is left alone.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import threading

_started = threading.Event()


def _stdin_is_a_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        return False


def _wait_and_exit() -> None:
    try:
        while os.read(0, 4096):
            pass  # the engine never writes; tolerate it if one ever does
    except OSError:
        return  # an unreadable stdin says nothing about the engine: keep serving
    # The engine read our stderr too: with it gone, this may fail with a broken pipe. Exit regardless.
    with contextlib.suppress(OSError):
        print("tokenfactory: the Pulumi engine that started this provider host is gone (its pipe closed); "
              "exiting. An endpoint this run was creating may exist: the next `pulumi up` names it.",
              file=sys.stderr, flush=True)
    os._exit(0)


def exit_when_the_engine_is_gone() -> None:
    """Start the watcher once per process, if standard input is the engine's pipe."""
    if _started.is_set():
        return
    _started.set()
    if _stdin_is_a_pipe():
        threading.Thread(target=_wait_and_exit, daemon=True, name="engine-watch").start()
