"""``egress.form_urlencode`` writes exactly what ``urllib.parse.urlencode`` writes."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.egress import form_urlencode

text = st.one_of(st.text(max_size=12), st.text(st.sampled_from("aZ09 +&=%_.-~/?#é\u00a0\U0001f600"), max_size=12),
                 st.sampled_from(["", " ", "+15551112222", "in-progress", "a b&c=d", "~._-"]))


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(text, text, max_size=8))
def test_the_same_text_as_urlencode(params):
    assert form_urlencode(params) == urlencode(params)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(text, st.one_of(text, st.integers(), st.none(), st.binary(max_size=6)), max_size=5))
def test_other_values_go_through_urlencode(params):
    assert form_urlencode(params) == urlencode(params)


def test_every_ascii_character_and_lone_surrogates():
    every = "".join(map(chr, range(128)))
    assert form_urlencode({every: every}) == urlencode({every: every})
    try:
        urlencode({"a": "\ud800"})
    except UnicodeEncodeError:
        pass
    else:
        raise AssertionError("urlencode took a lone surrogate")
    try:
        form_urlencode({"a": "\ud800"})
    except UnicodeEncodeError:
        return
    raise AssertionError("form_urlencode took a lone surrogate")
