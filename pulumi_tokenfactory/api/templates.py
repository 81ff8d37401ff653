"""`get_templates()`: the model catalogue, so programs choose model, flavor and GPU from data.

A dynamic provider cannot serve Pulumi invokes, so this reads the catalogue from the API in the
program's process, configured as the provider is. Under `pulumi.runtime.set_mocks` it first asks the
mocks, as a generated SDK's function would (a `call` of `GET_TEMPLATES_TOKEN`, answered with
`{"templates": [...]}`); mocks that answer nothing fall through to the API (an emulator, say).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pulumi.runtime

from .. import errors
from ..settings import Settings
from .client import TokenFactoryClient
from .models import Flavor, Template, catalogue_violations, parse_templates

#: The function token a unit test's `Mocks.call` sees when a program calls `get_templates()` under mocks.
GET_TEMPLATES_TOKEN = "tokenfactory:index:getTemplates"


@dataclass(frozen=True)
class HardwareChoice:
    """One valid (model, flavor, GPU type, GPU count) combination, ready to pass to DedicatedEndpoint."""

    model_name: str
    flavor_name: str
    gpu_type: str
    gpu_count: int


@dataclass(frozen=True)
class TemplateCatalogue:
    templates: tuple[Template, ...]

    def __iter__(self) -> Iterator[Template]:
        return iter(self.templates)

    def __len__(self) -> int:
        return len(self.templates)

    @property
    def model_names(self) -> list[str]:
        return [t.model_name for t in self.templates]

    def find(self, model_name: str) -> Template:
        """The template of `model_name`; a KeyError names the models that exist."""
        for template in self.templates:
            if template.model_name == model_name:
                return template
        raise KeyError(f"no template for model {model_name!r}; available: {', '.join(self.model_names)}")

    def choose(self, model_name: str, *, flavor_name: str | None = None, gpu_type: str | None = None,
               gpu_count: int | None = None) -> HardwareChoice:
        """The first combination the catalogue allows that fits every constraint given."""
        template = self.find(model_name)
        flavors: list[Flavor] = [f for f in template.flavors if flavor_name in (None, f.flavor_name)]
        for flavor in flavors:
            for gpu in flavor.gpu_types:
                for count in flavor.gpu_counts:
                    if gpu_type in (None, gpu) and gpu_count in (None, count):
                        return HardwareChoice(model_name, flavor.flavor_name, gpu, count)
        violations = catalogue_violations(list(self.templates), model_name=model_name, flavor_name=flavor_name,
                                          gpu_type=gpu_type, gpu_count=gpu_count)
        reason = "; ".join(v.reason for v in violations) or "no flavor offers that combination"
        raise KeyError(f"no hardware for {model_name!r} fits: {reason}")


class TemplatesNotMockedError(errors.MissingApiKeyError):
    """`get_templates()` ran under mocks that served no catalogue, and no token is set: a `MissingApiKeyError`
    still, but saying what a unit test is missing (an answer to the `getTemplates` call, not a token)."""

    def __init__(self) -> None:
        errors.ConfigurationError.__init__(
            self,
            f"get_templates() ran under pulumi.runtime.set_mocks, and the mocks' call() served no catalogue for "
            f"{GET_TEMPLATES_TOKEN!r}; no Token Factory API key is configured either, so it cannot ask an API. "
            f"Use pulumi_tokenfactory.testing.TokenFactoryMocks, or answer that call with "
            f'{{"templates": [...]}} (pulumi_tokenfactory.testing.templates_result)')


def get_templates(*, api_key: str | None = None, base_url: str | None = None) -> TemplateCatalogue:
    """Fetch the catalogue (one API call; under mocks, their answer first). Arguments override config and env."""
    from pulumi.runtime.mocks import MockMonitor

    mocked = isinstance(pulumi.runtime.settings.get_monitor(), MockMonitor)  # inside `pulumi.runtime.set_mocks`
    if mocked:
        served: Any = pulumi.runtime.invoke(GET_TEMPLATES_TOKEN, {}).value
        if served and "templates" in served:
            return TemplateCatalogue(tuple(parse_templates(served)))
    try:
        client = TokenFactoryClient(api_key=api_key, base_url=base_url, settings=Settings.of_program())
    except errors.MissingApiKeyError:
        if mocked:
            raise TemplatesNotMockedError() from None
        raise
    with client:
        return TemplateCatalogue(tuple(client.list_templates()))
