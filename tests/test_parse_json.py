"""``request_auth.parse_json`` accepts and refuses exactly what ``json.loads`` with its hooks does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.request_auth import _finite, _no_constant, parse_json


def reference(data: bytes | str) -> object:
    try:
        return ("ok", json.loads(data, parse_constant=_no_constant, parse_float=_finite))
    except (ValueError, RecursionError):
        return ("refused",)


def mine(data: bytes | str) -> object:
    try:
        return ("ok", parse_json(data))
    except ValueError as exc:
        assert str(exc) == "the body is not valid JSON"
        return ("refused",)


@pytest.mark.parametrize("data", [
    b'{"eventType": "gather", "callId": "c-1", "n": 1.5}', b"NaN", b"[Infinity]", b"1e400", b"-1e400",
    b"\xef\xbb\xbf{}", "\ufeff{}", "{}", b'{"a": "caf\xc3\xa9"}', b'{"a": "\xff"}', b"", b"[" * 100000,
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-16-le"), '{"a": 1}'.encode("utf-32-be"), b'"\\ud800"',
])
def test_the_same_as_json_loads(data):
    assert mine(data) == reference(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=30), st.text(max_size=30).map(str.encode),
                 st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                              lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                          max_size=3),
                              max_leaves=8).map(lambda v: json.dumps(v).encode())))
def test_any_body_the_same_as_json_loads(data):
    assert repr(mine(data)) == repr(reference(data))
