"""Strict readers of a snapshot document's fields: each names where it is and what was expected.

`DocumentError` carries the problem without the file name; `vmexit_tui.formats.snapshots`
attaches the file when it turns one into a `SnapshotError`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats import report_json


class DocumentError(Exception):
    """A problem inside a snapshot document, before the file name is attached."""


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


def scalar_fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    """The fields of a dataclass of scalars (`str`, `int`, `float`, `bool`, `X | None`)."""
    data = obj(data, where)
    out = {}
    for f in dataclasses.fields(cls):
        spec = str(f.type)
        base = spec.split("|")[0].strip()
        kind = {"str": str, "int": int, "float": float, "bool": bool}.get(base)
        if kind is None:
            continue  # not a scalar: the caller reads it
        optional = "None" in spec
        has_default = f.default is not dataclasses.MISSING
        if f.name not in data and has_default:
            continue  # written before the field existed
        out[f.name] = get(data, f.name, kind, where, optional=optional)
    return out


def event(value: Any, where: str) -> EventKind:
    try:
        return EventKind(value)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise DocumentError(
            f"{where}: unknown event kind {value!r}; expected one of {known}"
        ) from None


def report(data: Any, where: str) -> Report:
    try:
        return report_json.report_from_json(data, where)
    except report_json.ReportJsonError as e:
        raise DocumentError(str(e)) from None


def run_info(data: Any, where: str) -> RunInfo:
    return RunInfo(**scalar_fields(RunInfo, data, where))
