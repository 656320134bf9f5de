"""v1 audio requests (``POST .../calls/{callId}/audio``) -> BXML: the attributes BXML lacks."""

from __future__ import annotations

import pytest

from translators.catapult import InvalidRequest
from translators.catapult.audio import catapult_audio_to_bxml


def _codes(request: dict) -> list[tuple[str, str, str | None]]:
    return [(d.code, d.severity, d.field) for d in catapult_audio_to_bxml(request).diagnostics]


@pytest.mark.parametrize("volume", [0, "0", 0.0])
def test_volume_zero_is_named_without_effect(volume):
    assert ("BXM017", "info", "volume") in _codes({"sentence": "Hello", "volume": volume})
    catapult_audio_to_bxml({"sentence": "Hello", "volume": volume}, strict=True)  # info: strict passes


@pytest.mark.parametrize("volume", [-4, 2, "4"])
def test_volume_in_range_but_not_zero_is_lost(volume):
    assert ("BXM013", "warning", "volume") in _codes({"sentence": "Hello", "volume": volume})


@pytest.mark.parametrize("volume", [9, -5, "loud", True, 1.5, {"level": 1}])
def test_volume_v1_refused_is_refused(volume):
    # v1 answered 400 for a volume outside -4..4 or not an integer, though BXML has no volume at all.
    with pytest.raises(InvalidRequest) as caught:
        catapult_audio_to_bxml({"sentence": "Hello", "volume": volume})
    assert caught.value.field == "volume"


def test_volume_absent_or_null_is_not_mentioned():
    for request in ({"sentence": "Hello"}, {"sentence": "Hello", "volume": None}):
        assert all(field != "volume" for _, _, field in _codes(request))
