"""The gather context as the rewrites accept it: a ``GatherContext``, its dict form, or ``None``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translators.callbacks.schema_error import CallbackSchemaError
from translators.catapult.gather_context import GatherContext, InvalidGatherContext

ContextInput = GatherContext | Mapping[str, Any] | None


def gather_context(value: ContextInput) -> GatherContext | None:
    """A ``GatherContext`` from itself, its ``to_dict()`` form (``Translation.context``) or ``None``.

    A malformed dict raises ``CallbackSchemaError`` (BXM505) naming ``context.<key>``.
    """
    if value is None or isinstance(value, GatherContext):
        return value
    try:
        return GatherContext.from_dict(value)
    except InvalidGatherContext as exc:
        raise CallbackSchemaError((f"context.{exc.field}",), f"gather context: {exc}", code="BXM505") from None
