"""argparse types for numeric options: one clear line for a value out of range."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(
    kind: type, low: float, *, low_ok: bool, what: str, high: float | None = None, hint: str = ""
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if value < low or (value == low and not low_ok) or (high is not None and value >= high):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}{hint}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


positive_float = _number(float, 0, low_ok=False, what="greater than 0")
non_negative_float = _number(float, 0, low_ok=True, what="0 or more")
positive_int = _number(int, 1, low_ok=True, what="1 or more")
non_negative_int = _number(int, 0, low_ok=True, what="0 or more")
duration = _number(
    float, 0, low_ok=False, what="greater than 0",
    hint=" (leave --duration out to record until Ctrl+C)",
)  # fmt: skip
probability = _number(float, 0, low_ok=False, high=1, what="between 0 and 1 (exclusive)")
