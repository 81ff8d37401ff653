"""`get_templates()`: the model catalogue, so programs choose model, flavor and GPU from data.

The dynamic provider cannot serve Pulumi invokes, so this reads the
catalogue directly from the API in the program's process, with the same
configuration the provider uses (`tokenfactory:apiKey` / `tokenfactory:baseUrl`,
else the environment).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pulumi.runtime

from .client import TokenFactoryClient
from .models import Flavor, Template, catalogue_violations


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


def get_templates(*, api_key: str | None = None, base_url: str | None = None) -> TemplateCatalogue:
    """Fetch the catalogue (one API call). Arguments override stack config and environment."""
    key = api_key or pulumi.runtime.get_config("tokenfactory:apiKey")
    url = base_url or pulumi.runtime.get_config("tokenfactory:baseUrl")
    with TokenFactoryClient(api_key=key, base_url=url) as client:
        return TemplateCatalogue(tuple(client.list_templates()))
