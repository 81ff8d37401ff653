"""Pulumi programs the real-CLI acceptance tests run inline: the examples as shipped, and variants of them."""

from __future__ import annotations

import runpy
from typing import Any

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE

from .realcli import REPO, Program

EXAMPLES = REPO / "examples"


def example(relative: str) -> Program:
    """`examples/<relative>/__main__.py` exactly as shipped, run as the CLI runs a program (`__main__`)."""
    path = EXAMPLES / relative / "__main__.py"

    def program() -> None:
        runpy.run_path(str(path), run_name="__main__")

    return program


def endpoint_program(resource: str = "gpt-120b", **changes: Any) -> Program:
    """examples/basic's endpoint with some arguments changed (same exports; `resource` is the logical name)."""

    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        args = {**SEED_EXAMPLE, **changes}
        scaling = args.pop("scaling")
        endpoint = tokenfactory.DedicatedEndpoint(resource, scaling=tokenfactory.ScalingArgs(**scaling), **args)
        pulumi.export("endpoint_id", endpoint.id)
        pulumi.export("routing_key", endpoint.routing_key)
        pulumi.export("inference_base_url", endpoint.inference_base_url)
        pulumi.export("status", endpoint.status)
        pulumi.export("readiness", endpoint.readiness)
        tokenfactory.export_spend()  # as examples/basic does, so a step never shows the total being deleted

    return program
