"""Every URL in a TwiML document, resolved against the document's URL and routed through the proxy.

On Twilio, a ``<Gather action>``, a ``<Redirect>`` URL, a ``<Dial>``/``<Record>`` action ... is
requested by Twilio with form parameters and ``X-Twilio-Signature``.  On Bandwidth the same URL
would receive v2 JSON, so before the document is translated each such URL is

1. resolved against the URL of the document it came from (relative URLs are allowed in TwiML;
   an absent ``<Gather>``/``<Record>`` action means the document URL itself), fragment removed,
   percent-encoding normalised the way ``requests`` sends it;
2. replaced by a proxy URL (``link``) carrying a signed reference to that URL and the method
   the TwiML asked for; the TwiML ``method`` attribute is removed, so Bandwidth always POSTs
   its JSON to the proxy and the proxy uses the app's method towards the app.

``<Play>`` URLs are media Bandwidth fetches itself: they are only made absolute (Bandwidth would
otherwise resolve them against the proxy's URL).  User info (``user:password@``) never goes into
a reference (references are readable); the proxy re-applies the configured credentials of the
app's origin when it calls it (``twiml_fetch.credentials_for``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from lxml import etree
from requests.utils import requote_uri

from translators.attribute_rules import Method

GATHER, REDIRECT, ACTION, NOTIFY = "gather", "redirect", "action", "notify"
KINDS = (GATHER, REDIRECT, ACTION, NOTIFY)
_METHOD = Method()


@dataclass(frozen=True)
class Slot:
    """Where one URL sits on a TwiML element and which proxy route Bandwidth will call instead.

    ``attribute`` is ``""`` for a URL written as the element's text (``<Redirect>``).  ``kind``:
    ``gather`` (the v2 gather event; Twilio's empty-input rule applies), ``redirect`` (v2 redirect),
    ``action`` (another synchronous event whose reply is a document: transferComplete,
    recordComplete, transferAnswer), ``notify`` (asynchronous status events).
    """

    attribute: str
    method: str | None
    kind: str
    default_to_document: bool = False


_LEG = (Slot("url", "method", ACTION), Slot("statusCallback", "statusCallbackMethod", NOTIFY))
SLOTS: dict[str, tuple[Slot, ...]] = {
    "Gather": (Slot("action", "method", GATHER, default_to_document=True),
               Slot("partialResultCallback", "partialResultCallbackMethod", NOTIFY)),
    "Redirect": (Slot("", "method", REDIRECT),),
    "Record": (Slot("action", "method", ACTION, default_to_document=True),
               Slot("recordingStatusCallback", "recordingStatusCallbackMethod", NOTIFY),
               Slot("transcribeCallback", None, NOTIFY)),
    "Dial": (Slot("action", "method", ACTION),),
    "Number": _LEG,
    "Sip": _LEG,
    "Conference": (Slot("statusCallback", "statusCallbackMethod", NOTIFY),),
    "Stream": (Slot("statusCallback", "statusCallbackMethod", NOTIFY),),
}
MEDIA_TEXT = frozenset({"Play"})


@dataclass(frozen=True)
class AppTarget:
    """A URL of the app (no user info) and the method the TwiML asked for."""

    url: str
    method: str


# link(kind, target, extra reference fields) -> the proxy URL Bandwidth will call
Link = Callable[[str, AppTarget, Mapping[str, Any]], str]
# extra(element, slot) -> more fields for that URL's reference (e.g. a Gather's continuation)
Extra = Callable[[etree._Element, Slot], Mapping[str, Any]]


@functools.lru_cache(maxsize=1024)  # a pure function of the text
def strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@functools.lru_cache(maxsize=1024)  # a pure function of the text; apps use a handful of URLs
def resolve(base: str, raw: str) -> str:
    """``raw`` (relative or absolute) against ``base``: absolute, no fragment, encoded as sent."""
    url, _fragment = urldefrag(urljoin(base, raw.strip()))
    return requote_uri(url)


def method_of(raw: str | None) -> str:
    """GET or POST; absent or invalid -> POST, Twilio's default (an invalid value is a 1331x warning)."""
    if raw is None:
        return "POST"
    try:
        return str(_METHOD.parse(raw))
    except ValueError:
        return "POST"


def rewrite_urls(root: etree._Element, document_url: str, link: Link, extra: Extra | None = None) -> int:
    """Rewrite, in place, every URL the proxy must stand in for; return how many were rewritten."""
    count = 0
    for node in root.iter():
        tag = node.tag
        if not isinstance(tag, str) or "{" in tag:
            continue
        if tag in MEDIA_TEXT and (node.text or "").strip():
            node.text = resolve(document_url, node.text or "")
        for slot in SLOTS.get(tag, ()):
            raw = (node.text if slot.attribute == "" else node.get(slot.attribute)) or ""
            if not raw.strip():
                if not slot.default_to_document:
                    continue
                raw = document_url
            method = method_of(node.get(slot.method)) if slot.method else "POST"
            target = AppTarget(strip_userinfo(resolve(document_url, raw)), method)
            url = link(slot.kind, target, extra(node, slot) if extra is not None else {})
            if slot.attribute == "":
                node.text = url
            else:
                node.set(slot.attribute, url)
            if slot.method and slot.method in node.attrib:
                del node.attrib[slot.method]
            count += 1
    return count
