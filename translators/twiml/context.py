"""Per-translation state of a TwiML document (never module state)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree

from translators.attribute_rules import AttributeRule, RuleContext, RuleResult, apply_rules, plan_for
from translators.diagnostics import Diagnostics

# BXML attributes that make Bandwidth call the app (BXM007 lists them).
CALLBACK_ATTRIBUTES = frozenset({
    "gatherUrl", "redirectUrl", "transferCompleteUrl", "transferAnswerUrl", "transferDisconnectUrl",
    "recordCompleteUrl", "recordingAvailableUrl", "transcriptionAvailableUrl", "conferenceEventUrl",
    "streamEventUrl", "partialResultCallback",
})


# How far up a start tag may spread over lines before we stop looking for its "<".
_MAX_TAG_LINES = 50


@lru_cache(maxsize=256)
def _start_tag(name: str) -> re.Pattern[str]:
    return re.compile(r"<(?:[\w.-]+:)?" + re.escape(name) + r"(?=[\s/>]|$)")


@dataclass
class TwimlContext:
    document_url: str | None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    # (BXML attribute, URL, the source element): the element's line is looked up only for BXM007
    callback_urls: list[tuple[str, str, etree._Element]] = field(default_factory=list)
    source: str | bytes | None = None  # the source document, to place multi-line start tags
    encoding: str | None = None  # how the parser decoded ``source`` when it is bytes
    _lines: list[str] | None = field(default=None, init=False, repr=False)
    _found: dict[tuple[int, str], int] = field(default_factory=dict, init=False, repr=False)
    _values: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._values = {"document_url": self.document_url}

    @property
    def source_lines(self) -> list[str]:
        """The source as text lines, decoded on first use."""
        if self._lines is None:
            self._lines = _decode(self.source, self.encoding).split("\n")
        return self._lines

    def line(self, node: etree._Element | None) -> int | None:
        """The line where ``node``'s start tag begins.

        libxml2 reports the line where a start tag *ends*, so a ``<Gather`` whose attributes
        run over several lines would be reported at its last attribute.  Attribute values
        cannot contain ``<``, so the start tag begins on the nearest line above (or at) that
        one holding ``<name``.  Computed only when a diagnostic needs it; the answer depends
        only on the end line and the name, so it is kept per (line, name).
        """
        end = node.sourceline if node is not None else None
        if end is None or self.source is None:
            return end
        name = local_name(node)
        key = (end, name)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._start_line(end, name)
        return found

    def _start_line(self, end: int, name: str) -> int:
        lines = self.source_lines
        if end > len(lines):
            return end
        if "<" + name in lines[end - 1]:  # the common case: the start tag is on one line
            return end
        pattern = _start_tag(name)
        for number in range(end - 1, max(end - _MAX_TAG_LINES, 0), -1):
            if pattern.search(lines[number - 1]):
                return number
        return end

    def add(self, code: str, message: str, node: etree._Element | None = None, *,
            field_name: str | None = None, line: int | None = None) -> None:
        self.diagnostics.add(code, message, line if node is None else self.line(node), field=field_name)

    def check(self, rows: tuple[AttributeRule, ...], node: etree._Element) -> None:
        """Apply a table whose result the verb does not use: only its diagnostics matter."""
        if not plan_for(rows).is_silent(node.keys()):
            self.attributes(rows, node)

    def attributes(self, rows: tuple[AttributeRule, ...], node: etree._Element, *,
                   attributes: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
                   conditions: frozenset[str] = frozenset(), extra_known: tuple[str, ...] = ()) -> RuleResult:
        """Apply a mapping table to ``node``'s attributes (or prepared ``attributes``); note callback URLs.

        ``attributes`` is only read.  The element's line is computed only if a diagnostic needs it.
        """
        source = dict(node.items()) if attributes is None else attributes
        result = plan_for(rows).fixed_result(source, conditions)
        if result is None:
            rule_ctx = RuleContext(self.diagnostics, local_name(node),
                                   values=self._values if values is None else {**self._values, **values},
                                   conditions=conditions, locate=lambda: self.line(node))
            result = apply_rules(rows, source, rule_ctx, extra_known=extra_known)
        for name, value in result.attributes.items():
            if name in CALLBACK_ATTRIBUTES:
                self.callback_urls.append((name, value, node))
        return result


def local_name(node: etree._Element) -> str:
    tag = node.tag
    if type(tag) is not str:  # comments and processing instructions have a function as tag
        return ""
    return tag if tag[0] != "{" else tag.rpartition("}")[2]


def element_children(node: etree._Element) -> list[etree._Element]:
    return [child for child in node if isinstance(child.tag, str)]


def stray_text(node: etree._Element) -> str:
    """Non-blank text directly inside ``node`` (its own text and its children's tails)."""
    parts = [node.text or ""] + [child.tail or "" for child in node]
    return " ".join(" ".join(parts).split())


def _decode(source: str | bytes | None, encoding: str | None) -> str:
    if source is None:
        return ""
    if isinstance(source, str):
        return source.lstrip("\ufeff")
    try:
        return bytes(source).decode(encoding or "utf-8", errors="replace").lstrip("\ufeff")
    except LookupError:
        return ""
