"""The model templates the emulator offers (`sample_catalogue`), in the published shape or the legacy one."""

from __future__ import annotations

from typing import Any

from ..api.models import Template
from ..endpoint.fields import REGIONS
from ..sample_catalogue import SAMPLE_TEMPLATES

#: The sample catalogue (pulumi_tokenfactory/sample_catalogue.py, shared with the unit-test mocks) as models.
TEMPLATES: tuple[Template, ...] = tuple(Template.model_validate(t) for t in SAMPLE_TEMPLATES)


#: Each model's published metadata: (vendor, context window in thousands of tokens, size in billions of
#: parameters, licence name, licence URL).
_METADATA: dict[str, tuple[str, int, float, str, str]] = {
    "openai/gpt-oss-120b": ("OpenAI", 128, 117, "Apache 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "openai/gpt-oss-20b": ("OpenAI", 128, 21, "Apache 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "deepseek-ai/DeepSeek-V3.1": ("DeepSeek", 128, 671, "MIT", "https://opensource.org/license/mit"),
    "meta-llama/Llama-3.3-70B-Instruct": ("Meta", 128, 70, "Llama 3.3 Community License",
                                          "https://www.llama.com/llama3_3/license/"),
    "meta-llama/Meta-Llama-3.1-8B-Instruct": ("Meta", 128, 8, "Llama 3.1 Community License",
                                              "https://www.llama.com/llama3_1/license/"),
    "Qwen/Qwen3-235B-A22B": ("Qwen", 32, 235, "Apache 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "Qwen/Qwen3-32B": ("Qwen", 32, 32.8, "Apache 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
}


def published_model(template: Template) -> dict[str, Any]:
    """A template as the published `Model`: metadata, and `flavors` keyed by flavor name, each in every region."""
    vendor, context_k, size_b, licence, licence_url = _METADATA[template.model_name]
    return {
        "name": template.model_name,
        "type": "text2text",
        "metadata": {"vendor": vendor, "context_window_k": context_k, "size_b": size_b,
                     "huggingface_url": f"https://huggingface.co/{template.model_name}",
                     "license": {"name": licence, "url": licence_url}},
        "flavors": {f.flavor_name: {"gpu_types": f.gpu_types, "gpu_counts": f.gpu_counts, "regions": list(REGIONS)}
                    for f in template.flavors},
    }


def templates_payload(*, legacy: bool = False) -> dict[str, Any]:
    """The body of `GET /v0/dedicated_endpoints/templates`: the published list of Models, or the legacy form."""
    if legacy:
        return {"templates": [t.model_dump(mode="json") for t in TEMPLATES]}
    return {"data": [published_model(t) for t in TEMPLATES], "object": "list"}


#: The create payload of the API description's own example (shared/seeds/dedicated-endpoints-api.txt), with the
#: region the published create request requires. The catalogue must accept it; the demo, the examples and the
#: tests start from it.
SEED_EXAMPLE: dict[str, Any] = {
    "name": "GPT-120B Endpoint",
    "description": "Dedicated GPT-120B for internal apps",
    "model_name": "openai/gpt-oss-120b",
    "flavor_name": "base",
    "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1,
    "scaling": {"min_replicas": 1, "max_replicas": 2},
    "region": "eu-north1",
}
