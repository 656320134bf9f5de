"""``twilio_signature``: the signed string and the signature as first written (sets, sorted)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.twilio_signature import signature, string_to_sign


def reference_string(url, params):
    given_ = params or {}
    return url + "".join(name + value for name in sorted(set(given_))
                         for value in sorted(set([given_[name]] if isinstance(given_[name], str) else given_[name])))


values = st.one_of(st.text(max_size=6), st.lists(st.text(max_size=4), max_size=4), st.tuples(st.text(max_size=3)))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=20), st.one_of(st.none(), st.dictionaries(st.text(max_size=6), values, max_size=6)),
       st.text(min_size=0, max_size=12))
def test_string_and_signature_as_first_written(url, params, token):
    assert string_to_sign(url, params) == reference_string(url, params)
    expected = base64.b64encode(hmac.new(token.encode(), reference_string(url, params).encode(), hashlib.sha1)
                                .digest()).decode()
    assert signature(token, url, params) == expected
    assert signature(token, url, params) == expected  # the cached keyed HMAC is copied, never consumed
