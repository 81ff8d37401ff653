"""Serve the emulator with uvicorn on a socket bound first, so `--port 0` can print the real URL; loopback only
unless the operator insists, since the emulator has no real security and its admin routes can reset everything.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Iterator

import uvicorn

from .app import create_app
from .config import EmulatorConfig

log = logging.getLogger("tokenfactory.emulator")


class NonLoopbackHost(ValueError):
    """A --host that would expose the emulator beyond this machine."""


def is_loopback(host: str) -> bool:
    """True for loopback literals and for names that resolve only to loopback addresses."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def bind(host: str, port: int, *, allow_non_loopback: bool = False) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    if not allow_non_loopback and not is_loopback(host):
        raise NonLoopbackHost(
            f"refusing to listen on {host!r}: not a loopback address. The emulator has no real security and "
            f"its /_emulator routes can reset everything; pass --allow-non-loopback to do it anyway.")
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    family, _, _, _, address = infos[0]
    # proto=IPPROTO_TCP, not the default 0: asyncio enables TCP_NODELAY only on sockets that say they are
    # TCP, and without it every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, plus the readiness line and an optional watch on the parent process."""

    def __init__(self, config: uvicorn.Config, *, url: str, parent_pid: int | None) -> None:
        super().__init__(config)
        self._url = url
        self._parent_pid = parent_pid

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"Token Factory emulator listening on {self._url}", flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM stop the server gracefully, and that is a success: exit status 0, not -15."""
        with super().capture_signals():
            yield
            self._captured_signals.clear()

    async def on_tick(self, counter: int) -> bool:
        # A test runner killed with SIGKILL cannot stop us; noticing its death can.
        if self._parent_pid is not None and counter % 5 == 0 and os.getppid() != self._parent_pid:
            log.warning("parent process %d is gone; shutting down", self._parent_pid)
            self.should_exit = True
        return await super().on_tick(counter)


def serve(config: EmulatorConfig, *, host: str, port: int, allow_non_loopback: bool = False,
          exit_with_parent: bool = False) -> None:
    """Serve until SIGINT or SIGTERM; raises NonLoopbackHost or OSError before printing anything."""
    app = create_app(config)
    sock = bind(host, port, allow_non_loopback=allow_non_loopback)
    if not is_loopback(host):
        log.warning("listening on non-loopback address %s%s", host,
                    "" if config.api_key else " WITHOUT an API key: anyone who can reach it can use it")
    # h11: the drop and truncate faults reach the transport through h11's protocol.
    options = uvicorn.Config(app, http="h11", loop="asyncio", ws="none", lifespan="off", log_config=None,
                             access_log=False, proxy_headers=False, server_header=False, timeout_graceful_shutdown=2)
    bound_host, port = sock.getsockname()[:2]
    url = f"http://[{bound_host}]:{port}" if ":" in bound_host else f"http://{bound_host}:{port}"
    server = _Server(options, url=url, parent_pid=os.getppid() if exit_with_parent else None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
