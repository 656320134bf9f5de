"""One entry point over every source dialect: ``translate(source, read=..., write="bxml")``."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from typing import Any

from translators.translation import Translation

TARGETS = ("bxml",)


def _twiml(source: Any, **options: Any) -> Translation:
    from translators.twiml import twiml_to_bxml

    return twiml_to_bxml(source, **options)


def _catapult(source: Any, **options: Any) -> Translation:
    from translators.catapult import catapult_gather_to_bxml

    if isinstance(source, str | bytes):
        source = json.loads(source)
    return catapult_gather_to_bxml(source, **options)


READERS: dict[str, Callable[..., Translation]] = {
    "twiml": _twiml,
    "catapult-v1": _catapult,
}


class UnknownDialect(ValueError):
    pass


def _check(name: str, known: tuple[str, ...] | Mapping[str, object], kind: str) -> str:
    key = name.strip().lower()
    if key in known:
        return key
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    raise UnknownDialect(f"unknown {kind} dialect {name!r}{hint}")


def translate(source: Any, *, read: str, write: str = "bxml", strict: bool = False, **options: Any) -> Translation:
    """Translate ``source`` from dialect ``read`` ("twiml", "catapult-v1") into ``write`` ("bxml").

    ``source`` is TwiML text for "twiml", and a v1 gather request (a mapping or its JSON
    text) for "catapult-v1".  ``options`` go to the dialect's translator (e.g.
    ``document_url`` for TwiML, ``gather_url`` for Catapult).
    """
    reader = READERS[_check(read, READERS, "source")]
    _check(write, TARGETS, "target")
    return reader(source, strict=strict, **options)
