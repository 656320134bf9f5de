"""Per-translation state of a TwiML document (never module state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from translators.attribute_rules import AttributeRule, RuleContext, RuleResult, apply_rules
from translators.diagnostics import Diagnostics

# BXML attributes that make Bandwidth call the app (BXM007 lists them).
CALLBACK_ATTRIBUTES = frozenset({
    "gatherUrl", "redirectUrl", "transferCompleteUrl", "transferAnswerUrl", "transferDisconnectUrl",
    "recordCompleteUrl", "recordingAvailableUrl", "transcriptionAvailableUrl", "conferenceEventUrl",
    "streamEventUrl",
})


@dataclass
class TwimlContext:
    document_url: str | None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    callback_urls: list[tuple[str, str, int | None]] = field(default_factory=list)

    def add(self, code: str, message: str, node: etree._Element | None = None, *,
            field_name: str | None = None, line: int | None = None) -> None:
        self.diagnostics.add(code, message, line if node is None else line_of(node), field=field_name)

    def attributes(self, rows: tuple[AttributeRule, ...], node: etree._Element, *,
                   attributes: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
                   conditions: frozenset[str] = frozenset(), extra_known: tuple[str, ...] = ()) -> RuleResult:
        """Apply a mapping table to ``node``'s attributes (or prepared ``attributes``); note callback URLs."""
        rule_ctx = RuleContext(self.diagnostics, local_name(node), line_of(node),
                               values={"document_url": self.document_url, **(values or {})},
                               conditions=conditions)
        source = dict(node.attrib) if attributes is None else dict(attributes)
        result = apply_rules(rows, source, rule_ctx, extra_known=extra_known)
        for name, value in result.attributes.items():
            if name in CALLBACK_ATTRIBUTES:
                self.callback_urls.append((name, value, line_of(node)))
        return result


def line_of(node: etree._Element | None) -> int | None:
    return getattr(node, "sourceline", None) if node is not None else None


def local_name(node: etree._Element) -> str:
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def element_children(node: etree._Element) -> list[etree._Element]:
    return [child for child in node if isinstance(child.tag, str)]


def stray_text(node: etree._Element) -> str:
    """Non-blank text directly inside ``node`` (its own text and its children's tails)."""
    parts = [node.text or ""] + [child.tail or "" for child in node]
    return " ".join(" ".join(parts).split())
