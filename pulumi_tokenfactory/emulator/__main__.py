"""`tokenfactory-emulator`: serve a local Token Factory API until interrupted.

Prints exactly one line on stdout once it accepts connections,
`Token Factory emulator listening on http://HOST:PORT`, and logs requests
(never headers or the API key) on stderr.

Exit status: 0 when stopped by SIGINT or SIGTERM; 1 when it cannot listen on
the address (say, the port is taken); 2 for a bad argument (one line naming it), a host that is not
loopback without --allow-non-loopback, or a --state-file that cannot be used
(one line on stderr names the file and what is wrong with it).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..console.arguments import OneLineParser
from .config import API_KEY_ENV, DEFAULT_MAX_BODY_BYTES, DEFAULT_PROVISION_SECONDS

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _checked(convert: Callable[[str], Any], what: str, ok: Callable[[Any], bool],
             problem: str) -> Callable[[str], Any]:
    """An argparse type: `convert`, then `ok`, else `problem` (formatted with `text` and `value`)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(problem.format(text=text, value=value))
        return value

    return parse


_seconds = _checked(float, "number of seconds", lambda v: math.isfinite(v) and v >= 0,
                    "seconds must be a finite number >= 0, got {text!r}")
_port = _checked(int, "port number", lambda v: 0 <= v <= 65535,
                 "port must be 0-65535 (0 picks a free port), got {value}")
_byte_count = _checked(int, "number of bytes", lambda v: v >= 1, "a byte count must be >= 1, got {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tokenfactory-emulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--allow-non-loopback", action="store_true",
                        help="permit a --host that is not a loopback address (exposes the emulator)")
    parser.add_argument("--port", type=_port, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--api-key", default=None,
                        help=f"require `Authorization: Bearer <key>` on every request (default: env {API_KEY_ENV}, "
                             "else no authentication)")
    parser.add_argument("--provision-seconds", type=_seconds, default=DEFAULT_PROVISION_SECONDS,
                        help="create -> running, and enable -> running (default %(default)s; the real API: 600-900)")
    parser.add_argument("--update-seconds", type=_seconds, default=None,
                        help="scaling change: updating -> running (default provision/4)")
    parser.add_argument("--stop-seconds", type=_seconds, default=None,
                        help="enabled=false: stopping -> stopped (default provision/4)")
    parser.add_argument("--delete-seconds", type=_seconds, default=None,
                        help="DELETE: deleting -> gone (default provision/5; 0 = at once)")
    parser.add_argument("--routable-seconds", type=_seconds, default=0.0,
                        help="after create, enable or a min_replicas rise: how long a running endpoint's routing "
                             "key still answers inference 404 while replicas warm up (default 0: at once)")
    parser.add_argument("--state-file", default=None,
                        help="keep endpoints in this JSON file across restarts (default: in memory)")
    parser.add_argument("--max-body-bytes", type=_byte_count, default=DEFAULT_MAX_BODY_BYTES,
                        help="refuse request bodies larger than this with 413 (default %(default)s, 1 MiB)")
    parser.add_argument("--legacy-shapes", action="store_true",
                        help="answer in the shapes this emulator used before the published API ({'endpoints': [...]}, "
                             "a flat status, {'error': {...}}), to test a client's tolerance of them")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="shut down when the process that started the emulator dies (used by test helpers)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="stderr log level (default info)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Imported here so that `--help` and argument errors stay instant.
    from .config import EmulatorConfig
    from .server import NonLoopbackHost, serve
    from .store import StateFileError

    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV) or None
    try:
        config = EmulatorConfig(
            provision_seconds=args.provision_seconds, update_seconds=args.update_seconds,
            stop_seconds=args.stop_seconds, delete_seconds=args.delete_seconds,
            routable_seconds=args.routable_seconds, api_key=api_key,
            state_file=args.state_file, max_body_bytes=args.max_body_bytes,
            api_shapes="legacy" if args.legacy_shapes else "published",
            # The Host header must name loopback, or the --host given; when exposed on purpose, any name.
            trusted_hosts=("*",) if args.allow_non_loopback else (args.host,))
        serve(config, host=args.host, port=args.port, allow_non_loopback=args.allow_non_loopback,
              exit_with_parent=args.exit_with_parent)
    except (NonLoopbackHost, StateFileError) as exc:
        print(f"tokenfactory-emulator: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tokenfactory-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
