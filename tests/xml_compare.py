"""Compare XML documents as parsed trees, not as bytes.

``canonical(xml)`` turns a document into a nested tuple:

    (tag, ((attribute, value), ...), (item, ...))

where each item is, in document order, a text segment (surrounding white space
stripped, inner runs of white space collapsed to one space; blank segments left
out), a child element in the same form, or a comment ``("#comment", text)``.
Attributes are compared as a mapping (order does not matter); namespaced names
use Clark notation (``{http://www.w3.org/XML/1998/namespace}lang``).  The XML
declaration, indentation and processing instructions do not matter.

``assert_xml_equal(actual, expected)`` fails with a line-by-line diff of the two
canonical forms.
"""

from __future__ import annotations

import difflib
from typing import Any

from lxml import etree

Canonical = tuple[Any, ...]

COMMENT = "#comment"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_pis=True,
                           remove_comments=False, strip_cdata=True)


def _parse(xml: str | bytes | etree._Element) -> etree._Element:
    if isinstance(xml, etree._Element):
        return xml
    if isinstance(xml, str):
        # lxml refuses str input that carries an encoding declaration; the text is already decoded.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_pis=True,
                                 remove_comments=False, strip_cdata=True, encoding="utf-8")
        return etree.fromstring(xml.encode("utf-8"), parser)
    return etree.fromstring(bytes(xml), _parser())


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _node(node: etree._Element) -> Canonical:
    if isinstance(node, etree._Comment):
        return (COMMENT, _text(node.text))
    items: list[Any] = []
    if _text(node.text):
        items.append(_text(node.text))
    for child in node:
        if isinstance(child, etree._Comment) or isinstance(child.tag, str):
            items.append(_node(child))
        if _text(child.tail):
            items.append(_text(child.tail))
    return (node.tag, tuple(sorted(node.attrib.items())), tuple(items))


def canonical(xml: str | bytes | etree._Element) -> Canonical:
    """The comparable form of a document (or element): see the module docstring."""
    return _node(_parse(xml))


def _lines(tree: Any, depth: int = 0) -> list[str]:
    pad = "  " * depth
    if isinstance(tree, str):
        return [f"{pad}{tree!r}"]
    if tree[0] == COMMENT:
        return [f"{pad}<!--{tree[1]}-->"]
    tag, attributes, items = tree
    head = f"{pad}<{tag}" + "".join(f" {name}={value!r}" for name, value in attributes) + ">"
    lines = [head]
    for item in items:
        lines.extend(_lines(item, depth + 1))
    return lines


def assert_xml_equal(actual: str | bytes | etree._Element, expected: str | bytes | etree._Element) -> None:
    """Fail unless both documents have the same canonical tree (see ``canonical``)."""
    got, want = canonical(actual), canonical(expected)
    if got != want:
        diff = "\n".join(difflib.unified_diff(_lines(want), _lines(got), "expected", "actual", lineterm=""))
        raise AssertionError("XML trees differ:\n" + diff)
