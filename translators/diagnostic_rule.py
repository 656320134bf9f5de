"""What a registered diagnostic is: its severity and its documentation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Rule:
    """A registered diagnostic: the documentation of one code."""

    code: str
    name: str
    severity: Severity
    summary: str  # what it detects
    why: str  # why the call behaves differently
    emitted: str  # what the translator emits instead
    fix: str  # how to fix the source
    example: str = ""  # a small source snippet that triggers it
