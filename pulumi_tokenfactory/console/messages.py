"""What the console commands (`tokenfactory-adopt`, `tokenfactory-account`) say when a setting is missing or wrong.

The settings' own messages are written for a Pulumi program, whose stack config comes first
(`pulumi config set --secret tokenfactory:apiKey ...`). A console command has no stack: it reads
the token from `TOKENFACTORY_API_KEY` only and the base URL from `--base-url` or
`TOKENFACTORY_BASE_URL`. So every message a command prints goes through `console_message`, which
says where this command reads each value, and never sends the user to a stack's config.
"""

from __future__ import annotations

import re

from .. import errors
from ..schema import API_KEY_CONFIG, BASE_URL_CONFIG
from ..settings import API_KEY_ENV, BASE_URL_ENV

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
    if isinstance(failure, errors.AuthenticationError) and not isinstance(failure, errors.PermissionDeniedError):
        text += f"; the token was read from {API_KEY_ENV}: check that it is current"
    return text
