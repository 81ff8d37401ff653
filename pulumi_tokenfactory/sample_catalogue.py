"""The sample model catalogue: the templates the emulator serves and `testing.TokenFactoryMocks` answers with.

Plain data in the API's legacy JSON form, so that unit tests of a program need neither the emulator extra nor
a server. Hardware follows the models' memory needs (a 671B MoE needs a full 8-GPU H200/B200 node, an 8B model
fits one L40S), and the API description's example (openai/gpt-oss-120b, base, gpu-h100-sxm x 1) is valid.
"""

from __future__ import annotations

from typing import Any

_L40S, _H100, _H200, _B200 = "gpu-l40s-d", "gpu-h100-sxm", "gpu-h200-sxm", "gpu-b200-sxm"


def _template(model_name: str, description: str, base: tuple[list[str], list[int]],
              fast: tuple[list[str], list[int]]) -> dict[str, Any]:
    return {"model_name": model_name, "description": description, "flavors": [
        {"flavor_name": "base", "gpu_types": base[0], "gpu_counts": base[1]},
        {"flavor_name": "fast", "gpu_types": fast[0], "gpu_counts": fast[1]},
    ]}


#: The catalogue, one template per model.
SAMPLE_TEMPLATES: tuple[dict[str, Any], ...] = (
    _template("openai/gpt-oss-120b", "OpenAI gpt-oss 120B, open-weight reasoning MoE (117B total, 5.1B active)",
              base=([_H100, _H200, _B200], [1, 2, 4, 8]), fast=([_H200, _B200], [2, 4, 8])),
    _template("openai/gpt-oss-20b", "OpenAI gpt-oss 20B, compact open-weight reasoning model",
              base=([_L40S, _H100, _H200], [1, 2, 4]), fast=([_H100, _H200], [1, 2])),
    _template("deepseek-ai/DeepSeek-V3.1", "DeepSeek V3.1, 671B MoE with hybrid thinking mode",
              base=([_H200, _B200], [8]), fast=([_B200], [8])),
    _template("meta-llama/Llama-3.3-70B-Instruct", "Meta Llama 3.3 70B Instruct",
              base=([_H100, _H200, _B200], [2, 4, 8]), fast=([_H200, _B200], [4, 8])),
    _template("meta-llama/Meta-Llama-3.1-8B-Instruct", "Meta Llama 3.1 8B Instruct",
              base=([_L40S, _H100, _H200], [1, 2]), fast=([_H100, _H200], [1])),
    _template("Qwen/Qwen3-235B-A22B", "Qwen3 235B MoE (22B active)",
              base=([_H100, _H200, _B200], [4, 8]), fast=([_H200, _B200], [8])),
    _template("Qwen/Qwen3-32B", "Qwen3 32B dense",
              base=([_L40S, _H100, _H200], [1, 2, 4]), fast=([_H100, _H200], [2, 4])),
)
