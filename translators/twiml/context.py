"""Per-translation state of a TwiML document (never module state)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from lxml import etree

from translators.attribute_rules import RuleContext, RuleResult, TablePlan, run_plan
from translators.diagnostics import Diagnostics

# BXML attributes that make Bandwidth call the app (BXM007 lists them).
CALLBACK_ATTRIBUTES = frozenset({
    "gatherUrl", "redirectUrl", "transferCompleteUrl", "transferAnswerUrl", "transferDisconnectUrl",
    "recordCompleteUrl", "recordingAvailableUrl", "transcriptionAvailableUrl", "conferenceEventUrl",
    "streamEventUrl", "partialResultCallback",
})


NO_CONDITIONS: frozenset[str] = frozenset()

# How far up a start tag may spread over lines before we stop looking for its "<".
_MAX_TAG_LINES = 50


@lru_cache(maxsize=256)
def _start_tag(name: str) -> re.Pattern[str]:
    return re.compile(r"<(?:[\w.-]+:)?" + re.escape(name) + r"(?=[\s/>]|$)")


class TwimlContext:
    """What one translation of one document accumulates: diagnostics, callback URLs, found lines."""

    __slots__ = ("_found", "_lines", "_node", "_rule_ctx", "callback_urls", "diagnostics", "document_url",
                 "encoding", "source")

    def __init__(self, document_url: str | None, *, source: str | bytes | None = None,
                 encoding: str | None = None) -> None:
        self.document_url = document_url
        self.diagnostics = Diagnostics()
        # (BXML attribute, URL, the source element): the element's line is looked up only for BXM007
        self.callback_urls: list[tuple[str, str, etree._Element]] = []
        self.source = source  # the source document, to place multi-line start tags
        self.encoding = encoding  # how the parser decoded ``source`` when it is bytes
        self._lines: list[str] | None = None
        self._found: dict[tuple[int, str], int] = {}
        self._node: etree._Element | None = None  # the element whose attributes are being mapped
        self._rule_ctx = RuleContext(self.diagnostics, "", values={"document_url": document_url}, locate=self._locate)

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
        if node is None:
            return None
        end = node.sourceline
        if end is None or self.source is None:
            return end
        tag = node.tag
        name = tag if type(tag) is str and tag[0] != "{" else local_name(node)
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

    def check(self, plan: TablePlan, node: etree._Element) -> None:
        """Apply a table whose result the verb does not use: only its diagnostics matter."""
        if not plan.is_silent(node.keys()):
            self.attributes(plan, node)

    def attributes(self, plan: TablePlan, node: etree._Element, *, attributes: Mapping[str, str] | None = None,
                   conditions: frozenset[str] = NO_CONDITIONS) -> RuleResult:
        """Apply a compiled mapping table to ``node``'s attributes (or prepared ``attributes``); note callback URLs.

        ``attributes`` is only read.  The element's line is computed only if a diagnostic needs it.
        """
        rule_ctx = self._rule_ctx
        tag = node.tag
        rule_ctx.verb = tag if type(tag) is str and tag[0] != "{" else local_name(node)
        rule_ctx.conditions = conditions
        self._node = node
        result = run_plan(plan, dict(node.items()) if attributes is None else attributes, rule_ctx)
        out = result.attributes
        if not CALLBACK_ATTRIBUTES.isdisjoint(out):
            for name, value in out.items():
                if name in CALLBACK_ATTRIBUTES:
                    self.callback_urls.append((name, value, node))
        return result

    def _locate(self) -> int | None:
        """The line of the element whose table runs (for the engine's diagnostics)."""
        return self.line(self._node)


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
