"""examples/multi-stack/README.md quotes what the real CLI prints (issue 20, item 9e).

The README's walkthrough runs here as written (producer `up`, consumer `up`, a model change
previewed and applied in the producer, the consumer's preview before and after), and every
line of its `text` blocks must be a line the CLI printed, ids, routing-key suffixes and the
API's base URL aside (they differ from run to run, and the README shows the public API's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import example
from devtools.realcli import REPO, Backend, CliInstall
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

README = REPO / "examples" / "multi-stack" / "README.md"
API_KEY = "tf-multistack-readme-canary-6f2b"


def _normalized(text: str, base_url: str = "https://api.tokenfactory.nebius.com") -> list[str]:
    text = text.replace(f"{base_url}/v1/", "<base>/v1/")
    text = re.sub(r"\bep-[a-z0-9]{8,}", "ep-<id>", text)
    text = re.sub(r"(dedicated/[\w./-]+?)-[a-z0-9]{12}\b", r"\1-<key>", text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def _quoted() -> list[str]:
    blocks = re.findall(r"^```text\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    return [line for block in blocks for line in _normalized(block)]


def test_the_readme_quotes_lines_the_cli_prints(pulumi_cli: CliInstall, tmp_path: Path, emulator_factory: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    consumer_dir = str(REPO / "examples" / "multi-stack" / "consumer")
    monkeypatch.syspath_prepend(consumer_dir)  # the inline program imports app_config_file, as the CLI would
    backend = Backend(pulumi_cli, tmp_path / "pulumi",
                      extra_env={"PYTHONPATH": consumer_dir, "TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.3, api_key=API_KEY)
    producer = backend.stack("tokenfactory-producer", "dev", example("multi-stack/producer"),
                             config={"tokenfactory:baseUrl": emulator.base_url},
                             secrets={"tokenfactory:apiKey": API_KEY})
    consumer = backend.stack("tokenfactory-consumer", "dev", example("multi-stack/consumer"),
                             config={"producerStack": "organization/tokenfactory-producer/dev"})
    printed: list[str] = []
    printed.append(producer.up().stdout)
    printed.append(consumer.up().stdout)
    producer.set_config("model", auto.ConfigValue("openai/gpt-oss-20b"))
    preview = producer.preview()
    printed.append(preview.stdout)
    diff = producer.preview(diff=True).stdout
    printed.append(diff)
    unchanged = consumer.preview()
    printed.append(unchanged.stdout)
    assert unchanged.change_summary == {"same": 2}, "the README: `Resources: 2 unchanged`"
    printed.append(producer.up().stdout)
    printed.append(consumer.preview().stdout)
    consumer.destroy()
    producer.destroy()
    print("\n".join(printed))

    seen = {line for text in printed for line in _normalized(text, emulator.base_url)}
    quoted = _quoted()
    assert len(quoted) >= 20, "the README quotes the producer's and the consumer's outputs and both previews"
    assert "output<string>" not in README.read_text(encoding="utf-8"), "the CLI prints no such thing"
    missing = [line for line in quoted if line not in seen]
    assert not missing, "README lines the CLI did not print:\n" + "\n".join(missing)
    assert any("~ routing_key" in line and "=>" in line for line in _normalized(diff, emulator.base_url)), \
        "preview --diff shows the new routing key, as the README says"
