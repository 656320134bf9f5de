"""Twilio's empty-input rule for ``<Gather>`` (shared/spec/twiml.md §2.2 rules 5 and 6).

When the caller entered nothing (first-digit timeout, or the finish key pressed first) and
``actionOnEmptyResult`` is not true, Twilio does not request the action: it continues with the
verbs after ``<Gather>`` in the same document, and with none left the call ends.  Bandwidth
instead always posts the gather event (with ``digits=""``).

So when the proxy answers with a document whose first ``<Gather>`` has verbs after it, it keeps
those verbs (their TwiML, with the URL of the document they came from) in the state store under
(call, a fresh key) and puts the key in the Gather's signed reference.  On an empty gather event
the proxy takes the continuation (atomic fetch-and-delete: one taker) and answers it, translated
like any document, without calling the app.  The store is shared, so any instance, including one
started after a restart, can serve it.

Only the first top-level ``<Gather>`` of a document gets a continuation: on Bandwidth the verbs
after it are unreachable (its event returns a new document), and a later ``<Gather>`` is reached
only through that continuation, which gets its own when it is served.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from adapter.store import Store
from translators.attribute_rules import Boolean

_BOOLEAN = Boolean()


@dataclass(frozen=True)
class Continuation:
    """The TwiML verbs after a ``<Gather>`` (a ``<Response>`` document) and the URL they came from."""

    twiml: str
    document_url: str

    def encode(self) -> str:
        return json.dumps({"twiml": self.twiml, "documentUrl": self.document_url}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Continuation:
        data = json.loads(text)
        return cls(str(data["twiml"]), str(data["documentUrl"]))


def first_gather(root: etree._Element) -> etree._Element | None:
    """The first ``<Gather>`` among the verbs of a TwiML ``<Response>``."""
    for child in root:
        if child.tag == "Gather":
            return child
    return None


def verbs_after(gather: etree._Element) -> str | None:
    """The TwiML of the verbs after ``gather`` as a ``<Response>`` document; None if no verb follows."""
    following = list(gather.itersiblings())
    if not any(isinstance(node.tag, str) for node in following):
        return None
    parent = gather.getparent()
    assert parent is not None
    response = etree.Element(parent.tag, nsmap=parent.nsmap)  # keeps prefixes SSML may use
    response.text = "\n"
    for node in following:
        response.append(copy.deepcopy(node))
    return etree.tostring(response, encoding="unicode")


def action_on_empty_result(gather: etree._Element) -> bool:
    """The ``actionOnEmptyResult`` flag; an invalid value counts as the default false, as on Twilio."""
    raw = gather.get("actionOnEmptyResult")
    if raw is None:
        return False
    try:
        return bool(_BOOLEAN.parse(raw))
    except ValueError:
        return False


def is_empty_result(params: Mapping[str, str]) -> bool:
    """No input: no digits (none, or the finish key first) and no speech result."""
    return not params.get("Digits") and not params.get("SpeechResult")


def new_key() -> str:
    return "tw" + secrets.token_hex(12)


def save(store: Store, call_id: str, key: str, continuation: Continuation) -> None:
    store.put_continuation(call_id, key, continuation.encode())


def take(store: Store, call_id: str, key: str) -> Continuation | None:
    """The continuation, removed from the store (None when already taken or expired)."""
    text = store.take_continuation(call_id, key)
    return None if text is None else Continuation.decode(text)
