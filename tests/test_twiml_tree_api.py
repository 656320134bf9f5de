"""``twiml_tree_to_bxml`` (a tree the caller parsed, as the proxy does) gives what ``twiml_to_bxml``
gives for the same text, and leaves the tree as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from tests.test_twiml_properties import gather_documents
from translators import TranslationError, twiml_to_bxml, twiml_tree_to_bxml
from translators.safe_xml import parse_with_encoding

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "twiml").glob("*.xml"))
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import bench_translate  # noqa: E402

CORPUS = bench_translate.make_corpus(400, 7)


def _same(source: bytes | str, url: str | None, strict: bool = False) -> None:
    try:
        expected = twiml_to_bxml(source, document_url=url, strict=strict)
    except TranslationError as exc:
        root, encoding = parse_with_encoding(source)
        with pytest.raises(TranslationError) as raised:
            twiml_tree_to_bxml(root, source=source, encoding=encoding, document_url=url, strict=strict)
        assert raised.value.diagnostics == exc.diagnostics
        return
    root, encoding = parse_with_encoding(source)
    before = etree.tostring(root)
    got = twiml_tree_to_bxml(root, source=source, encoding=encoding, document_url=url, strict=strict)
    assert (got.bxml, got.diagnostics) == (expected.bxml, expected.diagnostics)
    assert etree.tostring(root) == before  # read, never changed


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures_give_the_same_translation(path: Path) -> None:
    source = path.read_bytes()
    _same(source, None)
    _same(source, "https://app.example.com/ivr/" + path.name)
    _same(source.decode("utf-8", "replace"), "https://app.example.com/x", strict=True)


def test_benchmark_corpus_gives_the_same_translation() -> None:
    for index, document in enumerate(CORPUS):
        _same(document, None if index % 3 == 0 else f"https://app.example.com/d/{index}.xml")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(gather_documents())
def test_generated_gathers_give_the_same_translation(case: tuple[str, dict[str, str], str | None]) -> None:
    source, _, url = case
    _same(source, url)


def test_a_root_other_than_response_is_refused() -> None:
    source = b"<Reponse><Say>hi</Say></Reponse>"
    root, encoding = parse_with_encoding(source)
    with pytest.raises(TranslationError) as raised:
        twiml_tree_to_bxml(root, source=source, encoding=encoding)
    assert raised.value.diagnostics[0].code == "BXM002"
