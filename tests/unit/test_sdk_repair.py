"""A program (or a user's test suite under mocks) may declare more endpoints than Python's recursion limit.

Pulumi's `serialize_provider` wraps `pickle._Pickler._batch_setitems` once more at every dynamic
resource and never unwraps it; `pulumi_tokenfactory._sdk_repair` undoes that after each
`DedicatedEndpoint`. Without the repair the first test ends in RecursionError.
"""

from __future__ import annotations

import pickle
import sys

import pytest

import pulumi_tokenfactory as tokenfactory
from pulumi_tokenfactory import _sdk_repair
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.mocks import run_program

COUNT = sys.getrecursionlimit() + 200


def test_more_endpoints_than_the_recursion_limit_in_one_process() -> None:
    def program() -> None:
        for index in range(COUNT):
            tokenfactory.DedicatedEndpoint(f"ep-{index}", name=f"endpoint {index}", model_name="openai/gpt-oss-120b",
                                           flavor_name="base", gpu_type="gpu-h100-sxm", gpu_count=1,
                                           scaling={"min_replicas": 1, "max_replicas": 1}, region="eu-north1")

    result = run_program(program, config={"tokenfactory:apiKey": "k"}, secret_keys=["tokenfactory:apiKey"])
    assert len(result.of_type(RESOURCE_TYPE)) == COUNT
    assert pickle._Pickler._batch_setitems is _sdk_repair._ORIGINAL  # type: ignore[attr-defined]
    assert pickle.loads(pickle._dumps({"b": 1, "a": {"c": 2}})) == {"a": {"c": 2}, "b": 1}  # type: ignore[attr-defined]


def test_only_the_sdks_wrapper_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    def someone_elses(self: object, items: object) -> None:
        raise AssertionError("not called")

    monkeypatch.setattr(pickle._Pickler, "_batch_setitems", someone_elses)
    monkeypatch.setattr(_sdk_repair, "_warned", False)
    with pytest.warns(RuntimeWarning, match="someone_elses.*left alone") as said:
        assert _sdk_repair.undo_pickler_patch() is False
        assert _sdk_repair.undo_pickler_patch() is False
    assert len(said) == 1, "said once per process"
    assert pickle._Pickler._batch_setitems is someone_elses  # type: ignore[attr-defined]


def test_the_original_method_is_left_alone_without_a_word(recwarn: pytest.WarningsRecorder,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickle._Pickler, "_batch_setitems", _sdk_repair._ORIGINAL)
    monkeypatch.setattr(_sdk_repair, "_warned", False)
    assert _sdk_repair.undo_pickler_patch() is False
    assert not [w for w in recwarn if "pickle" in str(w.message)]
