"""The model templates the emulator offers, shaped like the real catalogue.

Hardware choices follow the models' memory needs (a 671B MoE needs a full
8-GPU H200/B200 node, an 8B model fits one L40S), so programs and policies
exercised against the emulator meet realistic constraints. The API
description's example (openai/gpt-oss-120b, base, gpu-h100-sxm x 1) is valid.
"""

from __future__ import annotations

from typing import Any

from ..api.models import Flavor, Template

L40S = "gpu-l40s-d"
H100 = "gpu-h100-sxm"
H200 = "gpu-h200-sxm"
B200 = "gpu-b200-sxm"


def _template(model_name: str, description: str, base: tuple[list[str], list[int]],
              fast: tuple[list[str], list[int]]) -> Template:
    return Template(model_name=model_name, description=description, flavors=[
        Flavor(flavor_name="base", gpu_types=base[0], gpu_counts=base[1]),
        Flavor(flavor_name="fast", gpu_types=fast[0], gpu_counts=fast[1]),
    ])


TEMPLATES: tuple[Template, ...] = (
    _template("openai/gpt-oss-120b", "OpenAI gpt-oss 120B, open-weight reasoning MoE (117B total, 5.1B active)",
              base=([H100, H200, B200], [1, 2, 4, 8]), fast=([H200, B200], [2, 4, 8])),
    _template("openai/gpt-oss-20b", "OpenAI gpt-oss 20B, compact open-weight reasoning model",
              base=([L40S, H100, H200], [1, 2, 4]), fast=([H100, H200], [1, 2])),
    _template("deepseek-ai/DeepSeek-V3.1", "DeepSeek V3.1, 671B MoE with hybrid thinking mode",
              base=([H200, B200], [8]), fast=([B200], [8])),
    _template("meta-llama/Llama-3.3-70B-Instruct", "Meta Llama 3.3 70B Instruct",
              base=([H100, H200, B200], [2, 4, 8]), fast=([H200, B200], [4, 8])),
    _template("meta-llama/Meta-Llama-3.1-8B-Instruct", "Meta Llama 3.1 8B Instruct",
              base=([L40S, H100, H200], [1, 2]), fast=([H100, H200], [1])),
    _template("Qwen/Qwen3-235B-A22B", "Qwen3 235B MoE (22B active)",
              base=([H100, H200, B200], [4, 8]), fast=([H200, B200], [8])),
    _template("Qwen/Qwen3-32B", "Qwen3 32B dense",
              base=([L40S, H100, H200], [1, 2, 4]), fast=([H100, H200], [2, 4])),
)


def templates_payload() -> dict[str, Any]:
    """The body of `GET /v0/dedicated_endpoints/templates`."""
    return {"templates": [t.model_dump(mode="json") for t in TEMPLATES]}


#: The create payload of the API description's own example (shared/seeds/dedicated-endpoints-api.txt).
#: The catalogue must accept it; the demo, the examples and the tests start from it.
SEED_EXAMPLE: dict[str, Any] = {
    "name": "GPT-120B Endpoint",
    "description": "Dedicated GPT-120B for internal apps",
    "model_name": "openai/gpt-oss-120b",
    "flavor_name": "base",
    "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1,
    "scaling": {"min_replicas": 1, "max_replicas": 2},
}
