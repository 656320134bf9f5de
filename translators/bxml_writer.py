"""Building and serialising BXML documents.

Two ways to the same bytes.  Elements are plain lxml elements: ``serialize`` writes the
declaration BXML examples use, indents the verb structure for people to read, and never
touches the inside of ``<SpeakSentence>`` (its text and SSML are spoken as written).

Markup: a translator that only ever serialises its output writes it as text directly
(``markup``, ``container``, ``document``), with lxml's escaping and ``serialize``'s
indentation, so the result is byte for byte what building the elements and serialising
them gives (tests/test_bxml_markup.py checks it) at a fraction of the cost.
"""

from __future__ import annotations

import re
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


# -- markup: the same serialisation, written directly ------------------------------------

VERB_LEVEL = 1  # verbs are children of the root: a verb holding verbs indents them one level deeper
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# What libxml2 escapes when it serialises (to UTF-8): in text, and in attribute values.
_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\n\r\t]')


def escape_text(text: str) -> str:
    """``text`` as lxml writes it in element content."""
    if _TEXT_SPECIAL.search(text) is None:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attribute(value: str) -> str:
    """``value`` as lxml writes it between double quotes."""
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def start_tag(tag: str, attributes: Mapping[str, str] | None = None) -> str:
    """``<tag a="1" b="2"`` (not closed): attributes in their order, values escaped."""
    if not attributes:
        return "<" + tag
    return "<" + tag + "".join([f' {name}="{escape_attribute(value)}"' for name, value in attributes.items()])


def markup(tag: str, attributes: Mapping[str, str] | None = None, text: str | None = None) -> str:
    """What ``serialize`` writes for ``element(tag, attributes, text)`` (an element without children)."""
    if text is None:
        return start_tag(tag, attributes) + "/>"
    return f"{start_tag(tag, attributes)}>{escape_text(text)}</{tag}>"


def container(head: str, tag: str, children: list[str], level: int) -> str:
    """An indented element at depth ``level``: ``head`` is its ``start_tag``, ``children`` their markup.

    ``serialize`` puts each child of a verb that holds verbs on its own line, one level deeper.
    """
    if not children:
        return head + "/>"
    pad = _pad(level + 1)
    return f"{head}>{pad}{pad.join(children)}{_pad(level)}</{tag}>"


def comment(text: str | None) -> str:
    return f"<!--{text or ''}-->"


def render_document(root: str, children: list[str]) -> str:
    """The complete document ``serialize`` writes for a ``root`` element holding ``children``."""
    return f"{DECLARATION}{container('<' + root, root, children, 0)}\n"


def byte_size(document: str) -> int:
    return len(document.encode("utf-8"))
