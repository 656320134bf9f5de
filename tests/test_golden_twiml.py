"""Golden fixtures: every ``fixtures/twiml/<name>.xml`` translates to ``fixtures/bxml/<name>.xml``.

The expected documents were derived by hand from issue 2 and the reference sheets, and
``fixtures/manifest.json`` holds each fixture's document URL and its expected diagnostic
codes (sorted, with repeats).  Documents are compared as parsed trees (``xml_compare``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from xml_compare import assert_xml_equal, canonical

from translators import twiml_to_bxml

ROOT = Path(__file__).resolve().parent.parent
TWIML = ROOT / "fixtures" / "twiml"
BXML = ROOT / "fixtures" / "bxml"
MANIFEST: dict[str, dict] = json.loads((ROOT / "fixtures" / "manifest.json").read_text(encoding="utf-8"))
NAMES = sorted(MANIFEST)


def test_manifest_matches_fixture_files():
    assert {p.stem for p in TWIML.glob("*.xml")} == set(MANIFEST)
    assert {p.stem for p in BXML.glob("*.xml")} == set(MANIFEST)
    assert len(MANIFEST) >= 30
    for name, entry in MANIFEST.items():
        assert set(entry) == {"document_url", "codes"}, name
        assert entry["codes"] == sorted(entry["codes"]), f"{name}: codes must be sorted"


@pytest.mark.parametrize("name", NAMES)
def test_fixture_translates_to_expected_bxml(name):
    entry = MANIFEST[name]
    source = (TWIML / f"{name}.xml").read_bytes()
    translation = twiml_to_bxml(source, document_url=entry["document_url"])
    assert_xml_equal(translation.bxml, (BXML / f"{name}.xml").read_bytes())
    assert sorted(d.code for d in translation.diagnostics) == entry["codes"]
    assert translation.bxml.startswith('<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("name", NAMES)
def test_fixture_as_text_gives_the_same_result(name):
    """``str`` input (decoded by the caller) and ``bytes`` input translate alike."""
    entry = MANIFEST[name]
    raw = (TWIML / f"{name}.xml").read_bytes()
    encoding = "iso-8859-1" if b'encoding="ISO-8859-1"' in raw else "utf-8-sig"
    from_text = twiml_to_bxml(raw.decode(encoding), document_url=entry["document_url"])
    from_bytes = twiml_to_bxml(raw, document_url=entry["document_url"])
    assert canonical(from_text.bxml) == canonical(from_bytes.bxml)
    assert [d.code for d in from_text.diagnostics] == [d.code for d in from_bytes.diagnostics]


@pytest.mark.parametrize("name", NAMES)
def test_translation_leaves_the_input_unchanged(name):
    path = TWIML / f"{name}.xml"
    before = path.read_bytes()
    buffer = bytearray(before)
    twiml_to_bxml(before, document_url=MANIFEST[name]["document_url"])
    twiml_to_bxml(buffer, document_url=MANIFEST[name]["document_url"])
    assert path.read_bytes() == before
    assert bytes(buffer) == before


@pytest.mark.parametrize("name", NAMES)
def test_translation_is_deterministic(name):
    source = (TWIML / f"{name}.xml").read_bytes()
    first = twiml_to_bxml(source, document_url=MANIFEST[name]["document_url"])
    second = twiml_to_bxml(source, document_url=MANIFEST[name]["document_url"])
    assert first.bxml == second.bxml
    assert first.diagnostics == second.diagnostics


def test_every_diagnostic_has_a_source_line():
    for name in NAMES:
        source = (TWIML / f"{name}.xml").read_bytes()
        for diagnostic in twiml_to_bxml(source, document_url=MANIFEST[name]["document_url"]).diagnostics:
            assert diagnostic.line is not None and diagnostic.line >= 1, (name, diagnostic)
