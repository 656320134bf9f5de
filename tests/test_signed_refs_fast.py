"""``signed_refs``: tokens as first written (json.dumps sorted and compact, HMAC-SHA256 from scratch)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.signed_refs import sign, verify


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=8), st.integers(), st.booleans()), max_size=4),
       st.sampled_from([b"k", b"k" * 32, b"k" * 100, b"other-key"]), st.integers(0, 2**40))
def test_tokens_as_first_written(payload, key, now):
    data = {**payload, "iat": now}
    body = b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    expected = f"{body}.{b64(hmac.new(key, body.encode('ascii'), hashlib.sha256).digest())}"
    assert sign(payload, key, now=now) == expected
    assert verify(expected, key) == data
