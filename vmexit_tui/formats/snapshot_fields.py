"""Strict readers of a snapshot document's parts (dataclass fields, event kinds, run info),
on the checks of `json_checks`: each names where it is and what was expected."""

from __future__ import annotations

import dataclasses
from typing import Any

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats.json_checks import DocumentError, get, obj


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


def run_info(data: Any, where: str) -> RunInfo:
    return RunInfo(**scalar_fields(RunInfo, data, where))
