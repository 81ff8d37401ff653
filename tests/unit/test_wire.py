"""The wire conventions: one `__provider` key, one unknown test that every side shares."""

from __future__ import annotations

import enum

import pytest
from pulumi.output import Unknown

from pulumi_tokenfactory import wire
from pulumi_tokenfactory.policy import rules


def test_the_engine_sentinels_and_the_sdk_unknown_are_unknown() -> None:
    assert wire.is_unknown(wire.UNKNOWN_STRING)
    assert all(wire.is_unknown(s) for s in wire.UNKNOWN_SENTINELS)
    assert wire.is_unknown(Unknown())


@pytest.mark.parametrize("value", ["", "04da6b54", "unknown", None, 0, 2.0, False, {}, [], "Unknown"])
def test_known_values_are_known(value: object) -> None:
    assert not wire.is_unknown(value)


def test_detection_is_not_by_class_name() -> None:
    class Unknown(enum.Enum):  # the policy pack's own marker has this very name
        X = 1

    assert not wire.is_unknown(Unknown.X)
    assert not wire.is_unknown(rules.UNKNOWN)


def test_nested_unknowns_are_found_in_mappings_and_lists() -> None:
    assert wire.contains_unknown({"scaling": {"min_replicas": 1, "max_replicas": Unknown()}})
    assert wire.contains_unknown({"tags": ["a", wire.UNKNOWN_STRING]})
    assert not wire.contains_unknown({"scaling": {"min_replicas": 1, "max_replicas": 2}, "tags": ["a"]})


def test_the_sdk_agrees_with_our_sentinel_and_key() -> None:
    """Checked against the installed SDK, so an SDK that renamed either would fail here, not in a deployment."""
    import importlib.util
    from pathlib import Path

    from pulumi.runtime import rpc

    assert rpc.UNKNOWN == wire.UNKNOWN_STRING
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")  # read, not imported: importing it starts a server
    assert spec is not None and spec.origin is not None
    assert f'PROVIDER_KEY = "{wire.PROVIDER_KEY}"' in Path(spec.origin).read_text()
