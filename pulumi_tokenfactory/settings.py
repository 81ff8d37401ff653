"""Every setting this package reads, resolved and validated in one place.

A setting comes from the stack config (the provider's Configure dict, or `pulumi.runtime.get_config`
in a program), else its environment variable, else its default. It is validated when first asked
for; an unusable value raises `errors.InvalidSettingError` naming its source, the value (never a
secret's) and what is allowed; a missing API key raises `MissingApiKeyError`.

To add a setting, declare a `Setting` and add it to `SETTINGS`: its config key then reaches the
provider (`CONFIG_KEYS`) and the docs' settings table is checked against it.

No heavy imports (a program imports this for `tokenfactory:region`): pulumi only in
`Settings.of_program`, httpx only when a base URL is validated.
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .endpoint.fields import DEFAULT_REGION, REGIONS
from .errors import InvalidSettingError, MissingApiKeyError
from .rules import code_point
from .schema import API_KEY_CONFIG, BASE_URL_CONFIG, DEFAULT_BASE_URL, REGION_CONFIG
from .spend import GPU_PRICES_CONFIG, PriceTable, SpendConfigError, parse_price_table

T = TypeVar("T")

#: The source named when a setting's value is its default.
DEFAULT_SOURCE = "default"

API_KEY_ENV = "TOKENFACTORY_API_KEY"
BASE_URL_ENV = "TOKENFACTORY_BASE_URL"


class ApiKey:
    """Holds the token so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('**********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("an API key must never be pickled (it would end up in the Pulumi state)")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: where it may come from, its default, and how its raw value becomes a usable one.

    `parse(raw, source)` gets the raw value (from config possibly any JSON, not only a string) and its
    source's name, and raises `InvalidSettingError` naming that source. `default` is parsed like any
    value; None makes the setting required (`missing` then says how to set it).
    """

    label: str
    parse: Callable[[Any, str], T]
    allowed: str
    default: str | None = None
    config_key: str | None = None
    env: str | None = None
    secret: bool = False
    blank_is_unset: bool = True
    """An empty value counts as not given (an exported but empty variable); not so for the API key,
    whose empty value is an error of its own."""
    missing: Callable[[], Exception] | None = None
    optional: bool = False
    """Nothing given and no default resolves to None (a feature that is off unless configured)."""

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the value is looked for, in order (for messages and the docs)."""
        return tuple(s for s in (self.config_key, self.env) if s)

    def _given(self, value: Any) -> bool:
        return value is not None and not (self.blank_is_unset and isinstance(value, str) and not value.strip())

    def resolve(self, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None, *,
                given: Any = None, redact: Callable[[str], str] | None = None) -> T:
        """The usable value, from config before environment before default. `given` (an explicit argument)
        takes the config's place and its name."""
        environ = os.environ if environ is None else environ
        if self._given(given):
            raw, source = given, self.config_key or DEFAULT_SOURCE
        elif self.config_key and config is not None and self._given(value := config.get(self.config_key)):
            raw, source = value, self.config_key
        elif self.env and self._given(value := environ.get(self.env)):
            raw, source = value, self.env
        else:
            raw, source = self.default, DEFAULT_SOURCE
        if raw is None and self.optional:
            return None  # type: ignore[return-value]  # an optional setting's T includes None
        if raw is None:
            raise self.missing() if self.missing else InvalidSettingError(
                f"{self.label} is not set: set {' or '.join(self.sources)} ({self.allowed})",
                setting=self.sources[0] if self.sources else DEFAULT_SOURCE)
        try:
            return self.parse(raw, source)
        except InvalidSettingError as exc:
            if redact is None:
                raise
            raise InvalidSettingError(redact(exc.message), setting=exc.setting) from None

    def refuse(self, raw: Any, source: str, problem: str) -> InvalidSettingError:
        """The one message shape: setting, value (unless secret), problem, what is allowed."""
        shown = "" if self.secret else f" {raw!r}"
        return InvalidSettingError(
            f"Invalid {self.label}{shown} (from {source}): {problem}; allowed: {self.allowed}", setting=source)


def _text(setting: Setting[Any], raw: Any, source: str) -> str:
    if not isinstance(raw, str):
        raise setting.refuse(raw, source, f"it must be a string, got {type(raw).__name__}")
    return raw


def _seconds(setting: Setting[Any], raw: Any, source: str, *, low: float, high: float, low_open: bool) -> float:
    """A number of seconds in a range; `low_open` excludes `low` itself."""
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise setting.refuse(raw, source, "it is not a number") from None
    if isinstance(raw, bool) or not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        raise setting.refuse(raw, source, "it is out of range")
    return value


def _parse_api_key(raw: Any, source: str) -> ApiKey:
    """The token is sent in an HTTP header, so it may only hold visible ASCII (surrounding whitespace is forgiven).

    Anything else (a smart quote, a zero-width space) would surface as a `UnicodeEncodeError` or a
    protocol error from httpx. The error names the setting and the offending character, never the token.
    """
    if not isinstance(raw, str):
        raise API_KEY.refuse(None, source, f"it must be a string, got {type(raw).__name__}")
    token = raw.strip()
    if not token:
        raise MissingApiKeyError(empty=True)
    odd = next((ch for ch in token if not "!" <= ch <= "~"), None)
    if odd is not None:
        kind = ("whitespace" if odd.isspace() else "a control character" if unicodedata.category(odd) == "Cc"
                else "a non-ASCII character")
        raise InvalidSettingError(
            f"The Token Factory API key (from {source}) contains {kind} ({code_point(odd)}); a token may only "
            f"hold visible ASCII characters. Copy it again from the Token Factory dashboard and set it with "
            f"`pulumi config set --secret {API_KEY_CONFIG} <token>` or export {API_KEY_ENV}.", setting=source)
    return ApiKey(token)


def _shown_url(raw: str) -> str:
    """The URL as a message may show it: any `user:password@` and any query or fragment masked."""
    scheme, sep, rest = raw.partition("://")
    prefix, rest = (scheme + sep, rest) if sep else ("", raw)
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        rest = rest[: cut + 1] + "***"
    return repr(prefix + rest)


def _parse_base_url(value: Any, source: str) -> str:
    """Validated so that typos fail before any request, each naming the setting; no message shows a password or query.

    Credentials (`user:password@host`) are refused rather than stripped because httpx would send them
    as Basic auth instead of the Bearer token, and `inference_base_url`, derived from this URL, would
    carry them into the state.
    """
    import httpx  # only here: a program that merely declares resources never validates a URL

    raw = _text(BASE_URL, value, source).strip()  # e.g. a newline from $(cat ...)
    url = raw.rstrip("/")
    how = (f"expected http(s)://host[:port][/path], e.g. {DEFAULT_BASE_URL} "
           f"(set {BASE_URL_CONFIG} or {BASE_URL_ENV})")

    def refuse(problem: str) -> InvalidSettingError:
        return InvalidSettingError(
            f"Invalid Token Factory base URL {_shown_url(raw)} (from {source}): {problem}; {how}.", setting=source)

    odd = next((ch for ch in url if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")),
               None)
    if odd is not None:
        raise refuse(f"it contains whitespace or a control character ({code_point(odd)})")
    if "@" in url:
        raise refuse("user names and passwords (user:password@host) are not allowed in the base URL, because "
                     f"they would replace the Bearer token and reach the state; give the token as {API_KEY_CONFIG}")
    if not url:
        raise refuse("it is empty")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        bracket = " (an IPv6 address needs both brackets, e.g. http://[::1]:8080)" if "[" in url and "]" not in url \
            else ""
        raise refuse(f"it is not a valid URL: {exc}{bracket}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise refuse("the scheme must be http or https, followed by a host")
    ipv6 = ":" in parsed.host
    if not ipv6 and not re.fullmatch(r"[\w.-]+", parsed.host):
        raise refuse("the host may only hold letters, digits, '-', '.' and '_'")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise refuse("the port must be a number from 1 to 65535")
    if parsed.query or parsed.fragment or "?" in url or "#" in url:
        raise refuse("a query (?...) or fragment (#...) is not allowed")
    return url


def _parse_region(raw: Any, source: str) -> str:
    region = _text(REGION, raw, source).strip()
    if region not in REGIONS:
        raise REGION.refuse(raw, source, "no such region")
    return region


#: A project id as the API's `ai_project_id` query parameter takes it: no spaces, no URL syntax.
_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _parse_project_id(raw: Any, source: str) -> str:
    project = _text(PROJECT_ID, raw, source).strip()
    if not _PROJECT_ID.fullmatch(project):
        raise PROJECT_ID.refuse(raw, source, "it is not a project id")
    return project


def _parse_http_timeout(raw: Any, source: str) -> float:
    return _seconds(HTTP_TIMEOUT, raw, source, low=0.0, high=600.0, low_open=True)


def _parse_poll_max(raw: Any, source: str) -> float:
    return _seconds(POLL_MAX_INTERVAL, raw, source, low=0.05, high=60.0, low_open=False)


def _parse_widening(raw: Any, source: str) -> bool:
    text = _text(HOST_WIDENING, raw, source).strip()
    if text not in ("0", "1"):
        raise HOST_WIDENING.refuse(raw, source, "it is neither 0 nor 1")
    return text == "1"


def _parse_gpu_prices(raw: Any, source: str) -> PriceTable | None:
    try:
        return parse_price_table(raw)
    except SpendConfigError as exc:
        raise InvalidSettingError(str(exc), setting=source) from None


API_KEY: Setting[ApiKey] = Setting(
    "Token Factory API key", _parse_api_key, "visible ASCII characters", config_key=API_KEY_CONFIG,
    env=API_KEY_ENV, secret=True, blank_is_unset=False, missing=MissingApiKeyError)
BASE_URL: Setting[str] = Setting(
    "Token Factory base URL", _parse_base_url, "http(s)://host[:port][/path]", default=DEFAULT_BASE_URL,
    config_key=BASE_URL_CONFIG, env=BASE_URL_ENV)
REGION: Setting[str] = Setting(
    "default region", _parse_region, ", ".join(REGIONS), default=DEFAULT_REGION, config_key=REGION_CONFIG)
PROJECT_ID: Setting[str | None] = Setting(
    "Token Factory project", _parse_project_id, "a project id: letters, digits, '.', '_', ':' or '-', at most 128",
    config_key="tokenfactory:projectId", env="TOKENFACTORY_PROJECT_ID", optional=True)
HTTP_TIMEOUT: Setting[float] = Setting(
    "HTTP timeout", _parse_http_timeout, "seconds above 0 and at most 600", default="30",
    env="TOKENFACTORY_HTTP_TIMEOUT")
POLL_MAX_INTERVAL: Setting[float] = Setting(
    "status poll ceiling", _parse_poll_max, "seconds from 0.05 to 60", default="30",
    env="TOKENFACTORY_POLL_MAX_INTERVAL")
HOST_WIDENING: Setting[bool] = Setting(
    "provider-host thread lending", _parse_widening, "1 (on) or 0 (off)", default="1",
    env="TOKENFACTORY_HOST_WIDENING")

GPU_PRICES: Setting[PriceTable | None] = Setting(
    "GPU hourly price table", _parse_gpu_prices,
    'a JSON object {"currency": "USD", "prices": {"<gpu type>": <price per hour>}}',
    config_key=GPU_PRICES_CONFIG, optional=True)

#: Every setting the package reads (the docs' settings table is checked against this).
SETTINGS: tuple[Setting[Any], ...] = (API_KEY, BASE_URL, PROJECT_ID, REGION, GPU_PRICES, HTTP_TIMEOUT,
                                      POLL_MAX_INTERVAL, HOST_WIDENING)
#: The stack config keys the provider keeps from Configure.
CONFIG_KEYS: tuple[str, ...] = tuple(s.config_key for s in SETTINGS if s.config_key)


class _ProgramConfig(Mapping[str, Any]):
    """The running program's stack config, read key by key (`get_config` has no secret warnings)."""

    def __getitem__(self, key: str) -> Any:
        import pulumi.runtime

        value = pulumi.runtime.get_config(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(CONFIG_KEYS)

    def __len__(self) -> int:
        return len(CONFIG_KEYS)


class Settings:
    """The settings of one place (a provider host's Configure dict, a program, a command), resolved once each.

    `config` is the stack config (None: there is none, as for a console command); `environ` defaults
    to the process environment, read when a setting is first asked for.
    """

    def __init__(self, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.environ = environ
        self._values: dict[int, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_program(cls) -> Settings:
        """Inside a Pulumi program: its stack config, then the environment."""
        return cls(_ProgramConfig())

    def get(self, setting: Setting[T]) -> T:
        """The setting's value, validated on first use; an unusable one raises every time it is asked for."""
        key = id(setting)
        with self._lock:
            if key not in self._values:
                self._values[key] = setting.resolve(self.config, self.environ)
            value: T = self._values[key]
            return value

    def __repr__(self) -> str:
        return "Settings(<values hidden>)"

    def __reduce__(self) -> Any:
        raise TypeError("Settings may hold the API token; they must never be pickled")
