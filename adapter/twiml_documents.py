"""The BXML documents TwiML mode answers Bandwidth with.

``render`` turns one TwiML document (from the app, or a stored continuation) into the BXML
``<Response>`` for Bandwidth: hardened parse; the verbs after the first ``<Gather>`` kept as
its continuation (``twiml_continuations``); every app URL rewritten to a signed proxy URL
(``twiml_urls``); translation of that tree (not parsed again) with the TwiML translator (any
error diagnostic refuses the document, as Twilio refuses a document it cannot run); the
unreachable BXML after the first ``<Gather>`` dropped; the continuation stored.  Failures raise ``AppFailure``.

``fallback`` is ``twiml.fallback_bxml`` as a webhook reply (``<Response>`` root), ``hangup``
the document that ends the call when no verb is left.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapter.runtime import Runtime
from adapter.twiml_continuations import Continuation, action_on_empty_result, first_gather, new_key, save, verbs_after
from adapter.twiml_fetch import AppFailure
from adapter.twiml_urls import GATHER, AppTarget, Link, Slot, rewrite_urls
from translators import TranslationError, twiml_tree_to_bxml
from translators.bxml_writer import element, serialize
from translators.safe_xml import parse_untrusted, parse_with_encoding

log = logging.getLogger("bxml_migrate.twiml")

ROUTE_PREFIX = "/twiml/bw"
_MAX_REPORTED = 5


def linker(rt: Runtime, call_id: str) -> Link:
    """Proxy URLs ``{public_url}/twiml/bw/{kind}/{signed reference}`` for one call."""

    def link(kind: str, target: AppTarget, extra: Mapping[str, Any]) -> str:
        return rt.proxy_url(f"{ROUTE_PREFIX}/{kind}", kind=kind, call=call_id, url=target.url,
                            method=target.method, **extra)

    return link


def _listed(diagnostics: list[Any]) -> str:
    shown = "; ".join(d.format("TwiML") for d in diagnostics[:_MAX_REPORTED])
    more = len(diagnostics) - _MAX_REPORTED
    return shown + (f" (+{more} more)" if more > 0 else "")


def render(rt: Runtime, call_id: str, source: bytes | str, document_url: str) -> str:
    """The BXML ``<Response>`` for a TwiML document served from ``document_url`` (``AppFailure`` if unusable)."""
    try:
        root, encoding = parse_with_encoding(source)
    except TranslationError as exc:
        raise AppFailure(f"the answer is not a TwiML document: {_listed(exc.diagnostics)}") from None
    if root.tag != "Response":
        raise AppFailure(f"the answer's root element is <{root.tag}>, not <Response>")
    gather = first_gather(root)
    rest = verbs_after(gather) if gather is not None else None
    key = new_key() if rest is not None else None
    if gather is not None:  # Bandwidth never runs what follows a <Gather>: the rest is served later, if at all
        for node in list(gather.itersiblings()):
            root.remove(node)

    def extra(node: etree._Element, slot: Slot) -> dict[str, Any]:
        if slot.kind != GATHER:
            return {}
        fields: dict[str, Any] = {"empty": True} if action_on_empty_result(node) else {}
        if node is gather and key is not None:
            fields["rest"] = key
        return fields

    rewrite_urls(root, document_url, linker(rt, call_id), extra)
    try:  # the rewritten tree as it is (diagnostics give lines of the app's document)
        translation = twiml_tree_to_bxml(root, source=source, encoding=encoding)
    except TranslationError as exc:
        rt.metrics.count_diagnostics(exc.diagnostics)
        raise AppFailure(f"the TwiML cannot be translated: {_listed(exc.diagnostics)}") from None
    rt.metrics.count_diagnostics(translation.diagnostics)
    errors = [d for d in translation.diagnostics if d.severity == "error"]
    if errors:
        raise AppFailure(f"the TwiML has {len(errors)} error(s): {_listed(errors)}")
    for diagnostic in translation.diagnostics:
        log.debug("call %s: %s", call_id, diagnostic.format(document_url), extra={"callId": call_id})
    bxml = translation.bxml
    if key is not None and rest is not None:
        save(rt.store, call_id, key, Continuation(rest, document_url))
    return bxml


def fallback(rt: Runtime) -> str:
    """``twiml.fallback_bxml`` (a ``<Bxml>`` document) with the ``<Response>`` root of a webhook reply."""
    root = parse_untrusted(rt.config.twiml.fallback_bxml)
    root.tag = "Response"
    return serialize(root)


def hangup() -> str:
    """The end of the call when no verb is left (Twilio hangs up at the end of a document)."""
    root = element("Response")
    root.append(element("Hangup"))
    return serialize(root)
