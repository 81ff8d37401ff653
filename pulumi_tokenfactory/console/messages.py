"""What the console commands (`tokenfactory-adopt`, `tokenfactory-account`) share: their parser, their tables,
and what they say when a setting is missing or wrong.

The settings' own messages are written for a Pulumi program, whose stack config comes first
(`pulumi config set --secret tokenfactory:apiKey ...`). A console command has no stack: it reads
the token from `TOKENFACTORY_API_KEY` only and the base URL from `--base-url` or
`TOKENFACTORY_BASE_URL`. So every message a command prints goes through `console_message`, which
says where this command reads each value, and never sends the user to a stack's config.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Callable, Container, Sequence
from typing import Any, NoReturn

from .. import errors
from ..api.client import Redactor, TokenFactoryClient
from ..endpoint.fields import REGIONS
from ..schema import API_KEY_CONFIG, BASE_URL_CONFIG
from ..settings import API_KEY_ENV, BASE_URL_ENV, HTTP_TIMEOUT, Settings
from .arguments import OneLineParser

#: "Set it with `pulumi config set --secret tokenfactory:apiKey <token>` or export TOKENFACTORY_API_KEY."
_SET_THE_KEY = re.compile(r"[Ss]et it with `pulumi config set --secret " + re.escape(API_KEY_CONFIG)
                          + r" <token>` or export " + re.escape(API_KEY_ENV) + r"\.?")


def console_message(failure: errors.TokenFactoryError, *, base_url_flag: bool = False) -> str:
    """The one-line message for `failure`, saying where a console command reads its settings.

    ``base_url_flag``: the base URL came from `--base-url` (the settings name it after the stack
    config key, the place an argument takes in a program).
    """
    if isinstance(failure, errors.MissingApiKeyError):
        problem = f"{API_KEY_ENV} is empty" if "empty" in str(failure) else f"{API_KEY_ENV} is not set"
        return (f"{problem}: this command reads the Token Factory API key from the environment only (not from "
                f"a stack's config); export {API_KEY_ENV}=<token> and run it again")
    text = str(failure)
    text = _SET_THE_KEY.sub(f"export it as {API_KEY_ENV} (this command reads the token from the "
                            f"environment only)", text)
    if base_url_flag:
        text = text.replace(f"(from {BASE_URL_CONFIG})", "(from --base-url)")
    text = text.replace(f"(set {BASE_URL_CONFIG} or {BASE_URL_ENV})", f"(pass --base-url or set {BASE_URL_ENV})")
    text = text.replace(f"give the token as {API_KEY_CONFIG}", f"give the token in {API_KEY_ENV}")
    if isinstance(failure, errors.AuthenticationError) and not isinstance(failure, errors.PermissionDeniedError):
        text += f"; the token was read from {API_KEY_ENV}: check that it is current"
    if isinstance(failure, errors.RequestTimeoutError):
        text += f"; {TIMEOUT_HINT}"
    elif isinstance(failure, (errors.TransportError, errors.NotFoundError)) or (  # a listing: the URL, not an endpoint
            isinstance(failure, errors.APIStatusError) and 300 <= (failure.status_code or 0) < 400):
        text += f"; {_base_url_source(base_url_flag)}"
    return text


def _base_url_source(base_url_flag: bool) -> str:
    """Where a command took its base URL: a variable exported long ago (an emulator's, say) is easily forgotten."""
    if base_url_flag:
        return "the base URL was read from --base-url: check it"
    if os.environ.get(BASE_URL_ENV, "").strip():
        return f"the base URL was read from {BASE_URL_ENV}: check it"
    return f"the base URL is the public API's (neither --base-url nor {BASE_URL_ENV} is set): check the network"


#: What a timed-out request says: the one knob there is (and the commands read it, as the provider does).
TIMEOUT_HINT = (f"each request may take {HTTP_TIMEOUT.env} seconds (default {HTTP_TIMEOUT.default}): raise it if "
                "the network is slow")


def console_client(base_url: str | None) -> TokenFactoryClient:
    """The client of a command that lists the account: no stack config (`Settings()` reads the environment only),
    and the HTTP timeout the provider uses, `TOKENFACTORY_HTTP_TIMEOUT`, so one setting governs both."""
    settings = Settings()
    return TokenFactoryClient(base_url=base_url, settings=settings, timeout=settings.get(HTTP_TIMEOUT))


#: The exit status of a command ended by Ctrl-C, as a shell reports a process SIGINT ended (128 + 2).
INTERRUPTED_STATUS = 130


def ends_quietly_on_ctrl_c(prog: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """A command's `main` that Ctrl-C ends with one line and `INTERRUPTED_STATUS`, not a Python traceback.

    The commands only read the account, and `tokenfactory-adopt` writes its module in one step at the end,
    so nothing is left half done."""
    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def quiet(*args: object, **kwargs: object) -> int:
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt:
                print(f"{prog}: interrupted; nothing was changed or written", file=sys.stderr)
                return INTERRUPTED_STATUS
        return quiet
    return wrap


def unknown_region(region: str | None) -> str | None:
    """What is wrong with a `--region` filter that names none of the regions, None when it names one: a typo
    would filter every endpoint out, and "no endpoints in eu-nort1" would read as a fact about the account."""
    if region is None or region in REGIONS:
        return None
    return f"unknown region {region!r}; allowed: {', '.join(REGIONS)}"


#: The help of `--base-url`, which every command takes.
BASE_URL_HELP = f"API base URL (default: {BASE_URL_ENV}, else the public API)"


def without_token(text: str) -> str:
    """`text` without the token in `TOKENFACTORY_API_KEY`: what a command says may quote a value the user gave in
    the wrong place (two variables swapped, the token pasted into a flag), and that value may be the token."""
    return Redactor([os.environ.get(API_KEY_ENV, "").strip()])(text)


def complain(prog: str, text: str) -> None:
    """The one line a command prints on stderr when it stops, never holding the token."""
    print(f"{prog}: {without_token(text)}", file=sys.stderr)


class _ConsoleParser(OneLineParser):
    """A command's parser: its one-line refusal of an argument never holds the token (`unrecognized arguments:
    tf-...` after the token was pasted on the command line)."""

    def error(self, message: str) -> NoReturn:
        super().error(without_token(message))


class _RefuseApiKey(argparse.Action):
    """`--api-key`, which the emulator takes, refused without echoing its value: it is a token, and the variable
    a command reads is then usually not set, so nothing else could tell it is one."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        parser.error(f"{option_string} is not taken (a process list shows a command's arguments): "
                     f"export {API_KEY_ENV}=<token> instead")


def command_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A command's parser, whose help is the module docstring as written (usage lines included), and whose refusal
    of an argument is one line."""
    parser = _ConsoleParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-key", action=_RefuseApiKey, help=argparse.SUPPRESS)
    return parser


def report_failure(prog: str, failure: errors.TokenFactoryError, *, base_url_flag: bool) -> int:
    """Print `failure` as one line on stderr; the exit status of a command that could not list the account."""
    complain(prog, console_message(failure, base_url_flag=base_url_flag))
    return 1


def columns(rows: Sequence[Sequence[str]], *, right_aligned: Container[int] = ()) -> list[str]:
    """The rows as aligned text columns, two spaces apart, with no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(width) if i in right_aligned else cell.ljust(width)
                      for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
