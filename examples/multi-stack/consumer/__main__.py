"""Consumer stack: reads the producer's endpoint through a StackReference and configures an app with it.

This stack owns no endpoint and needs no Token Factory token: it only reads
the producer stack's outputs and writes them into the application's
configuration (here a JSON file, `AppConfigFile`).

Stack config:
    producerStack     required: the producer's stack, e.g. `organization/tokenfactory-producer/dev`
    environment       optional: pick this environment from the producer's `endpoints` map
                      (default: the producer's top-level `routing_key` / `inference_base_url`)
    configPath        optional: where to write the file (default app-config.json, in this folder)
    inferenceBaseUrl  optional: override the base URL (e.g. the emulator's http://127.0.0.1:8080/v1/)
"""

from __future__ import annotations

from typing import Any

import pulumi

# A module of this project, not of __main__: see app_config_file.py for why.
from app_config_file import AppConfigFile


def select_environment(endpoints: dict[str, Any], environment: str) -> dict[str, Any]:
    """One entry of the producer's `endpoints` output; a typo names the environments that exist."""
    if environment not in endpoints:
        raise KeyError(f"the producer stack has no environment {environment!r}; it has: "
                       f"{', '.join(sorted(endpoints))}")
    return endpoints[environment]


def endpoint_coordinates(producer: pulumi.StackReference,
                         environment: str | None) -> tuple[pulumi.Output[Any], pulumi.Output[Any]]:
    """(routing_key, inference_base_url) of the chosen environment, as Outputs of the reference."""
    if environment is None:
        return producer.require_output("routing_key"), producer.require_output("inference_base_url")
    chosen = producer.require_output("endpoints").apply(lambda endpoints: select_environment(endpoints, environment))
    return chosen.apply(lambda e: e["routing_key"]), chosen.apply(lambda e: e["inference_base_url"])


def main() -> AppConfigFile:
    """Wire the producer's routing key into the application's configuration."""
    config = pulumi.Config()
    producer_stack = config.require("producerStack")
    producer = pulumi.StackReference("producer", stack_name=producer_stack)
    routing_key, base_url = endpoint_coordinates(producer, config.get("environment"))

    app_config = AppConfigFile(
        "chat-app-config",
        path=config.get("configPath") or "app-config.json",
        base_url=config.get("inferenceBaseUrl") or base_url,
        model=routing_key,
        settings={"source_stack": producer_stack},
    )
    pulumi.export("config_path", app_config.path)
    pulumi.export("model", app_config.model)
    pulumi.export("base_url", app_config.base_url)
    return app_config


# The CLI runs this file as `__main__`; the guard lets tests import the helpers above without running it.
if __name__ == "__main__":
    main()
