"""Building and serialising BXML documents.

Elements are plain lxml elements.  ``serialize`` writes the declaration BXML
examples use, indents the verb structure for people to read, and never touches
the inside of ``<SpeakSentence>`` (its text and SSML are spoken as written).
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

MAX_BXML_BYTES = 64 * 1024

# Elements whose content is spoken or literal: indentation must not change it.
_LITERAL = frozenset({"SpeakSentence", "PlayAudio", "PhoneNumber", "SipUri", "Conference", "Tag",
                      "SendDtmf", "Bridge"})


def element(tag: str, attributes: Mapping[str, str] | None = None, text: str | None = None) -> etree._Element:
    """A new element; ``attributes`` are set in their order."""
    if isinstance(attributes, dict):  # one call; lxml keeps a dict's order (it sorts other mappings)
        node = etree.Element(tag, attributes)
    else:
        node = etree.Element(tag)
        for name, value in (attributes or {}).items():
            node.set(name, value)
    if text is not None:
        node.text = text
    return node


_PADS = tuple("\n" + "  " * level for level in range(16))


def _pad(level: int) -> str:
    return _PADS[level] if level < len(_PADS) else "\n" + "  " * level


def _indent(node: etree._Element, level: int) -> None:
    if len(node) == 0:
        return
    tag = node.tag
    if tag in _LITERAL or not isinstance(tag, str):
        return
    pad = _pad(level + 1)
    node.text = pad
    for child in node:
        if len(child):
            _indent(child, level + 1)
        child.tail = pad
    child.tail = _pad(level)  # the last child closes the parent's indentation


def serialize(root: etree._Element) -> str:
    """The complete document: ``<?xml version="1.0" encoding="UTF-8"?>`` and the indented tree."""
    _indent(root, 0)
    body = etree.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def byte_size(document: str) -> int:
    return len(document.encode("utf-8"))
