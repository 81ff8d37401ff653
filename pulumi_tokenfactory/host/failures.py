"""How a failed provider call reaches the person running Pulumi: one line naming the operation, the resource and
the cause.

The dynamic-provider host (`pulumi/dynamic/__main__.py`, `_abort_with_traceback`) answers every
exception with gRPC `UNKNOWN` whose detail is `traceback.format_exc()`, and the CLI shows that
text as the resource's error: the row reads `error: Traceback (most recent call last):` and the
diagnostics 15-25 lines of frames, with the one line a person needs at the bottom. Two levers
make that text one line, without touching the host's code:

* `traceback.format_exc()` honours `sys.tracebacklimit` (documented in the `sys` module); with
  0 it prints no frames and no `Traceback ...` header, only `ExcType: message`.
  `quiet_tracebacks` sets it once, when our provider is configured inside the host (the process
  the engine started for dynamic providers; never a program or a test runner), unless
  `TOKENFACTORY_TRACEBACKS=1` asks for tracebacks. It is process-wide: another dynamic provider
  of the same program served by this host also loses its frames; the same variable brings them
  back for it.
* An exception raised `from None` prints no chained exception, and `one_line` rewrites the
  message to name the operation and the resource (`create 'GPT-120B Endpoint': ...`).

Errors our code raises on purpose (`errors.TokenFactoryError`) keep their class, so callers and
tests still catch them by type; the class name leads the line (`...AuthenticationError: refresh
'GPT-120B Endpoint': ...`). Anything else is a bug of this package: it becomes one
`errors.ProviderBugError` line saying so and how to get the traceback. With
`TOKENFACTORY_TRACEBACKS=1` nothing is rewritten and the host sends the full traceback.

A 401 or 403 on a path that may run without the program (refresh, delete) also says why a key
just set may not be the one in use, and the way out (see `rotation_hint`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .. import errors

#: Set to 1 (or true, yes, on) in the environment of `pulumi` to get full Python tracebacks from the provider.
TRACEBACKS_ENV: Final = "TOKENFACTORY_TRACEBACKS"

#: Operations that may run from the state alone (`pulumi refresh`, `pulumi destroy`), with its saved provider config.
STATE_OPERATIONS: Final = frozenset({"refresh", "delete"})

#: Verbs our own messages may already start with (`create 'X': ...`, from a wait's label).
_VERBS: Final = ("check", "diff", "create", "adopt", "update", "refresh", "delete", "read")


def tracebacks_wanted() -> bool:
    return os.environ.get(TRACEBACKS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


#: The module the engine runs for dynamic providers (`python -m pulumi.dynamic`, see the plugin script).
DYNAMIC_HOST_MAIN: Final = "pulumi.dynamic.__main__"


def in_dynamic_host() -> bool:
    """Whether this process is the engine's dynamic-provider host, not a program, a test runner or a console
    command: elsewhere `sys.tracebacklimit = 0` breaks Pulumi's SDK (it takes resources' source positions
    from the stack, and a program under mocks then never finishes)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == DYNAMIC_HOST_MAIN


def quiet_tracebacks() -> None:
    """In the provider host only: make the host's `traceback.format_exc()` print the error line alone."""
    if in_dynamic_host() and not tracebacks_wanted():
        sys.tracebacklimit = 0


def rotation_hint() -> str:
    return ("`pulumi refresh` and `pulumi destroy` use the provider settings saved in the state by the last "
            "`pulumi up`, not the stack's current config (nor TOKENFACTORY_API_KEY). If the key was changed "
            "since, run `pulumi refresh --run-program` or `pulumi destroy --run-program` (they read the current "
            "`tokenfactory:apiKey`), or `pulumi up` first")


def one_line(operation: str, props: Mapping[str, Any] | None, exc: BaseException, *,
             id_: str | None = None, secrets: Iterable[str | None] = ()) -> BaseException:
    """The exception to raise (`from None`) in place of `exc`: the same error, its message naming operation and
    resource; a `ProviderBugError` for anything that is not a `TokenFactoryError`. Either never holds `secrets`:
    ours redact what the API says, but may quote a setting's value, and the key may have been put in the wrong
    setting; an unexpected error's text is anybody's, so it also loses anything shaped like a credential."""
    from ..api.client import Redactor

    redactor = Redactor(s.strip() for s in secrets if isinstance(s, str))
    name = (props or {}).get("name")  # the endpoint is named by its declared name, else its id
    who = repr(name) if isinstance(name, str) and name else (f"endpoint {id_}" if id_ else "the endpoint")
    if isinstance(exc, errors.TokenFactoryError):
        text = str(exc)
        if isinstance(exc, errors.AuthenticationError):
            refused = "refused the API key" if not isinstance(exc, errors.PermissionDeniedError) else \
                "says the API key may not do this"
            text = f"the Token Factory API {refused}: {text}"
            if operation in STATE_OPERATIONS:
                text = f"{text}. {rotation_hint()}"
            else:
                text = f"{text}. Check `tokenfactory:apiKey` (pulumi config set --secret tokenfactory:apiKey <token>)"
        # A message that names both already (a wait's or an adoption's label) is left as it is.
        if not any(text.startswith(f"{verb} {who}: ") for verb in _VERBS):
            text = f"{operation} {who}: {text}"
        exc.args = (redactor.answer(text),)  # the key alone: our messages may say "Bearer token" on purpose
        exc.__traceback__ = None
        return exc
    cause = redactor(str(exc))
    return errors.ProviderBugError(
        f"{operation} {who}: unexpected {type(exc).__name__}: {cause}. This is a bug in pulumi-tokenfactory; run the "
        f"command again with {TRACEBACKS_ENV}=1 set to see the Python traceback, and report it")
