"""Value types for the subcommands' ``argparse`` options."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int, rule: str) -> Callable[[str], int]:
    """An option's type: a whole number of at least ``minimum``; ``rule`` is the message otherwise."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(rule)
        return number

    return parse
