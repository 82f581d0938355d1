"""Checked reads of a JSON document (a snapshot, a report): each names where it is and what
was expected. `vmexit_tui.formats.snapshots` attaches the file name to a `DocumentError`
when it turns one into a `SnapshotError`."""

from __future__ import annotations

import json
from typing import Any


class DocumentError(ValueError):
    """A JSON document of the wrong shape: the message says where and what was expected
    (`rows[3].samples: expected an integer, found "12"`), without the file name."""


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def check(value: Any, kind: type, where: str, *, optional: bool = False) -> Any:
    """`value` if it is of `kind` (a float also accepts an int; neither accepts a bool)."""
    if value is None and optional:
        return None
    ok = (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is float
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, kind)
    )
    if not ok:
        shown = json.dumps(value)[:40]
        expected = _TYPE_NAMES.get(kind, kind.__name__) + (" or null" if optional else "")
        raise DocumentError(f"{where}: expected {expected}, found {shown}")
    return float(value) if kind is float else value


def get(data: dict, key: str, kind: type, where: str, *, optional: bool = False) -> Any:
    """`data[key]`, checked; a missing key is an error even when the value may be null."""
    if key not in data:
        raise DocumentError(f"{where}: missing key {key!r}")
    return check(data[key], kind, f"{where}.{key}", optional=optional)


def obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise DocumentError(f"{where}: expected an object, found {json.dumps(value)[:40]}")
    return value


def items(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise DocumentError(f"{where}: expected a list, found {json.dumps(value)[:40]}")
    return value
