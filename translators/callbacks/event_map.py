"""Declarative event mapping: one ``EventMap`` per (source event, target event) pair.

A map lists the target fields in order, each copied from a source field, set to a constant
or derived by a named function, plus the source fields that must be present.  ``apply_map``
validates the payload (``CallbackSchemaError`` naming every bad field, never a ``KeyError``)
and builds the target dict; the README tables come from the same rows (``map_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.schemas import ANY, OBJECT, TEXT
from translators.callbacks.settings import TwilioSettings, V1Settings
from translators.catapult.gather_context import GatherContext


@dataclass(frozen=True)
class Source:
    """One payload and what its rewrite may consult."""

    event: Mapping[str, Any]
    context: GatherContext | None = None
    v1: V1Settings | None = None
    twilio: TwilioSettings | None = None
    call: Mapping[str, Any] = field(default_factory=dict)


Derive = Callable[[Source], Any]


@dataclass(frozen=True)
class Field:
    """A target field: ``constant``, else ``derive(source)``, else the source field ``source`` copied.

    ``source`` also documents where a derived value comes from.  ``None`` results leave the
    field out.
    """

    target: str
    source: str | None = None
    derive: Derive | None = None
    constant: str | None = None
    note: str = ""

    def value(self, src: Source) -> Any:
        if self.constant is not None:
            return self.constant
        if self.derive is not None:
            return self.derive(src)
        return src.event.get(self.source) if self.source else None


@dataclass(frozen=True)
class EventMap:
    name: str  # e.g. "v2 gather → v1 gather"
    source_event: str  # the eventType the payload must have
    fields: tuple[Field, ...]
    required: tuple[str, ...]  # source fields that must be present, not null, not ""
    known: Mapping[str, str]  # the source schema of that event: field -> TEXT / OBJECT / ANY
    keep_unknown: bool = False  # copy fields outside ``known`` (only when the target is v2)

    def __post_init__(self) -> None:
        targets = [f.target for f in self.fields]
        if len(targets) != len(set(targets)):
            raise ValueError(f"{self.name}: a target field appears twice")
        missing = [name for name in self.required if name not in self.known]
        if missing:
            raise ValueError(f"{self.name}: required fields outside the schema: {missing}")


@dataclass(frozen=True)
class Mapped:
    payload: dict[str, Any]
    dropped: tuple[str, ...]  # unknown source fields left out (closed target schema)


_TYPE_NAMES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "an array",
               dict: "an object"}


def _type_name(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return name
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def _fits(kind: str, value: Any) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == OBJECT:
        return isinstance(value, Mapping)
    return kind == ANY


_UNKNOWN = object()


def check_payload(event_map: EventMap, event: Any) -> Mapping[str, Any]:
    """The payload as a mapping, or ``CallbackSchemaError`` naming what is wrong with it."""
    if not isinstance(event, Mapping):
        raise CallbackSchemaError(("(event)",), f"{event_map.name}: the payload must be a JSON object, "
                                  f"not {_type_name(event)}")
    event_type = event.get("eventType")
    if event_type != event_map.source_event:
        shown = "no eventType" if event_type is None else f"eventType {event_type!r}"
        raise CallbackSchemaError(("eventType",), f"{event_map.name}: expected eventType "
                                  f"{event_map.source_event!r}, got {shown}")
    missing = [name for name in event_map.required if event.get(name) is None or event.get(name) == ""]
    known = event_map.known
    wrong: list[str] = []
    for name, value in event.items():  # _fits inlined: this runs on every field of every event
        if value is None:
            continue
        kind = known.get(name, _UNKNOWN)
        if kind is _UNKNOWN or (isinstance(value, str) if kind == TEXT else
                                type(value) is dict or isinstance(value, Mapping) if kind == OBJECT else
                                kind == ANY):
            continue
        wrong = [name for name, kind in known.items()  # in schema order, for a stable message
                 if event.get(name) is not None and not _fits(kind, event[name])]
        break
    if missing or wrong:
        parts = []
        if missing:
            parts.append("missing required field(s) " + ", ".join(missing))
        if wrong:
            parts.append("wrong type: " + "; ".join(
                f"{name} (expected {'a string' if event_map.known[name] == TEXT else 'an object'}, "
                f"got {_type_name(event[name])})" for name in wrong))
        raise CallbackSchemaError(missing + wrong, f"{event_map.name}: " + "; ".join(parts))
    return event


def apply_map(event_map: EventMap, src: Source) -> Mapped:
    event = check_payload(event_map, src.event)
    payload: dict[str, Any] = {}
    for item in event_map.fields:  # Field.value inlined
        if item.constant is not None:
            value: Any = item.constant
        elif item.derive is not None:
            value = item.derive(src)
        elif item.source:
            value = src.event.get(item.source)
        else:
            continue
        if value is not None:
            payload[item.target] = value
    unknown = tuple(name for name in event if name not in event_map.known)
    if event_map.keep_unknown:
        for name in unknown:
            payload.setdefault(name, event[name])
        return Mapped(payload, ())
    return Mapped(payload, unknown)


def map_rows(event_map: EventMap) -> list[dict[str, str]]:
    """Documentation rows: target field, source, rule."""
    rows = []
    for item in event_map.fields:
        source = f'"{item.constant}"' if item.constant is not None else item.source or "—"
        rows.append({"target": item.target, "source": source, "note": item.note})
    return rows
