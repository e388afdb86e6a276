"""JSON columns are read with pydantic-core's parser: whatever `json.dumps` wrote (what the
engine's serializer stores) reads back as `json.loads` would read it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from checkrun.db import json_loads

WRITTEN: list[Any] = [
    {"a": [1, 2.5, None, True], "b": {"c": "ü ✓ \u0000"}},
    "\ud800 a lone surrogate, escaped by json.dumps",
    {"nested": "\udfff", "pair": "\U0001f600"},
    123456789012345678901234567890,
    -0.0,
    1.0000000000000002,
    [],
    {},
]


@pytest.mark.parametrize("value", WRITTEN)
def test_what_json_dumps_writes_reads_back_the_same(value: Any) -> None:
    text = json.dumps(value)
    assert json_loads(text) == json.loads(text) == value


def test_non_finite_numbers_read_as_json_loads_reads_them() -> None:
    assert math.isnan(json_loads("NaN")) and json_loads("Infinity") == math.inf
