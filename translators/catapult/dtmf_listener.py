"""Per-key ``dtmf`` events for v1 apps: ``<StartGather>`` at the start of the call.

v1 sent a ``dtmf`` event for every key pressed on a call.  v2 sends them only while a
``<StartGather>`` runs, so the proxy puts one at the start of each call (the first BXML of
an inbound call, or the answer BXML of an outbound one) and ``<StopGather>`` when the app
no longer wants them.  ``<StartGather>`` pauses while a ``<Gather>`` runs and resumes
afterwards, so keys pressed during a gather are reported only in the gather event: that
matches v1, where a gather suppressed per-key events by default (``suppressDtmf``).
"""

from __future__ import annotations

from lxml import etree

from translators.attribute_rules import Method, Url
from translators.bxml_writer import element


def catapult_dtmf_listener(dtmf_url: str, *, method: str = "POST", username: str | None = None,
                           password: str | None = None) -> etree._Element:
    """``<StartGather dtmfUrl=... [dtmfMethod="GET"] [username password]/>`` for the proxy's dtmf URL.

    ``method`` is ``GET`` or ``POST`` (BXML's default, so not written).  ``username`` and
    ``password`` (Basic credentials for ``dtmf_url``) go together.  No ``tag`` is written:
    a v2 tag is sticky and would leak into every later callback.  Raises ``ValueError``.
    """
    try:
        attributes = {"dtmfUrl": Url().parse(dtmf_url)}
    except ValueError as exc:
        raise ValueError(f"dtmf_url: {exc}") from None
    try:
        chosen = Method().parse(method)
    except ValueError as exc:
        raise ValueError(f"method: {exc}") from None
    if chosen != "POST":
        attributes["dtmfMethod"] = chosen
    if (username is None) != (password is None):
        raise ValueError("username and password go together")
    if username is not None and password is not None:
        attributes["username"] = username
        attributes["password"] = password
    return element("StartGather", attributes)


def stop_dtmf_listener() -> etree._Element:
    """``<StopGather/>``: ends the per-key events started by ``catapult_dtmf_listener``."""
    return element("StopGather")
