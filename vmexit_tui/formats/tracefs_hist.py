"""The text of a tracefs `hist` file, and the exit-reason tables of an event's `format` file.

A `hist` file holds one table per hist trigger on the event::

    # event histogram
    #
    # trigger info: hist:keys=vcpu,reason,lat.log2:vals=hitcount,lat:... [active]
    #

    { vcpu:          0, reason:        114, lat: ~ 2^13 } hitcount:          1  lat:       7760
    { vcpu:          0, reason:         96 } hitcount:         23
            max:      12647  lat:      12647              (an onmax() line, tab-indented)

    Totals:
        Hits: 4444
        Entries: 6
        Dropped: 0

Keys print as decimal numbers (`%10llu`) or, for a `.log2` key, as ``~ 2^k`` (the entry's key
is then ``"<field>.log2": k``). Values are decimal. Anything else is refused with the file,
the line and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vmexit_tui.analysis.exit_hist import ExitCounts

__all__ = [
    "HistEntry",
    "HistParseError",
    "HistTable",
    "ReasonTables",
    "exit_counts",
    "exit_reason_tables",
    "parse_hist",
]


class HistParseError(ValueError):
    """A hist or format file that does not read as the kernel writes it."""

    def __init__(self, source: str, line: int, expected: str, found: str) -> None:
        super().__init__(f"{source}:{line}: expected {expected}, found {found[:80]!r}")
        self.source, self.line, self.expected, self.found = source, line, expected, found


@dataclass(frozen=True, slots=True)
class HistEntry:
    """One `{ keys } values` line: keys by field name (`lat.log2` for a log2 key), values."""

    keys: dict[str, int]
    values: dict[str, int]


@dataclass(frozen=True, slots=True)
class HistTable:
    """One trigger's table: its spec as the kernel prints it, entries and totals."""

    trigger: str
    entries: tuple[HistEntry, ...] = ()
    hits: int | None = None
    dropped: int | None = None

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(self.entries[0].keys) if self.entries else ()


_TRIGGER = re.compile(r"^# trigger info: (?P<spec>.*?)(?: \[(?:active|paused)\])?$")
_ENTRY = re.compile(r"^\{(?P<keys>[^}]*)\}(?P<values>.*)$")
_KEY = re.compile(r"^\s*(?P<name>[\w.]+):\s*(?:(?P<num>-?\d+)|~ 2\^(?P<log2>\d+))\s*$")
_VALUE = re.compile(r"([\w.]+):\s*(-?\d+)")
_TOTAL = re.compile(r"^\s+(?P<name>Hits|Entries|Dropped):\s*(?P<n>\d+)\s*$")


def _parse_keys(text: str, source: str, lineno: int) -> dict[str, int]:
    keys: dict[str, int] = {}
    for part in text.split(","):
        m = _KEY.match(part)
        if m is None:
            raise HistParseError(source, lineno, "a key `name: number` or `name: ~ 2^k`", part)
        if m["log2"] is not None:
            keys[f"{m['name']}.log2"] = int(m["log2"])
        else:
            keys[m["name"]] = int(m["num"])
    return keys


def _parse_values(text: str, source: str, lineno: int) -> dict[str, int]:
    pairs = _VALUE.findall(text)
    rest = _VALUE.sub("", text).strip()
    if rest or not pairs:
        raise HistParseError(source, lineno, "values `name: number`", text.strip())
    return {name: int(n) for name, n in pairs}


def parse_hist(text: str, source: str = "hist") -> list[HistTable]:
    """Every table in the text of one `hist` file, in file order."""
    tables: list[HistTable] = []
    spec: str | None = None
    entries: list[HistEntry] = []
    totals: dict[str, int] = {}

    def close() -> None:
        nonlocal spec, entries, totals
        if spec is not None:
            tables.append(
                HistTable(spec, tuple(entries), totals.get("Hits"), totals.get("Dropped"))
            )
        spec, entries, totals = None, [], {}

    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line in ("#", "# event histogram"):
            continue
        if line.startswith("#"):
            m = _TRIGGER.match(line)
            if m is not None:
                close()
                spec = m["spec"]
            continue  # other comment lines carry nothing we read
        if spec is None:
            raise HistParseError(source, lineno, "`# trigger info:` before the entries", line)
        m = _ENTRY.match(line)
        if m is not None:
            entries.append(
                HistEntry(
                    _parse_keys(m["keys"], source, lineno),
                    _parse_values(m["values"], source, lineno),
                )
            )
            continue
        if line.startswith("\t") and entries:  # an action's values (onmax: `max: N  var: N`)
            last = entries[-1]
            values = {**last.values, **_parse_values(line, source, lineno)}
            entries[-1] = HistEntry(last.keys, values)
            continue
        if line.strip() == "Totals:":
            continue
        t = _TOTAL.match(line)
        if t is not None:
            totals[t["name"]] = int(t["n"])
            continue
        raise HistParseError(source, lineno, "a `{ keys } values` line or the totals", line)
    close()
    return tables


# ---- the format file's exit-reason tables ---------------------------------------------------

_SYMBOLIC = re.compile(r"__print_symbolic\(\s*REC->exit_reason(?P<mask>[^,]*),")
_PAIR = re.compile(r'\{\s*(?P<code>[-+\w\s]+?)\s*,\s*"(?P<name>[^"]*)"\s*\}')


@dataclass(frozen=True, slots=True)
class ReasonTables:
    """Exit-reason code → name, as the running kernel prints them (`kvm_exit`'s print fmt)."""

    vmx: dict[int, str] = field(default_factory=dict)
    svm: dict[int, str] = field(default_factory=dict)

    def for_vendor(self, vendor: str) -> dict[int, str]:
        return self.vmx if vendor == "vmx" else self.svm


def _code(expr: str, source: str) -> int:
    """`0x040 + 13`, `-1` (an unsigned int field: 0xffffffff), `124`."""
    total = 0
    for term in expr.replace(" ", "").split("+"):
        if not term:
            continue
        total += int(term, 0)
    return total & 0xFFFFFFFF


def _symbolic_body(text: str, start: int) -> str:
    """The text of one `__print_symbolic(...)` call from `start`, parentheses balanced."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def exit_reason_tables(format_text: str, source: str = "format") -> ReasonTables:
    """The VMX and SVM tables in `kvm_exit`'s print fmt (VMX under `isa == 1`, SVM else).

    Raises `HistParseError` when the print fmt holds no `__print_symbolic` over exit_reason.
    """
    fmt_line = next((ln for ln in format_text.splitlines() if ln.startswith("print fmt:")), None)
    if fmt_line is None:
        raise HistParseError(source, 1, "a `print fmt:` line", format_text[:80])
    lineno = format_text.splitlines().index(fmt_line) + 1
    calls = [_symbolic_body(fmt_line, m.start()) for m in _SYMBOLIC.finditer(fmt_line)]
    if not calls:
        raise HistParseError(source, lineno, "__print_symbolic(REC->exit_reason, ...)", fmt_line)
    tables = [{_code(m["code"], source): m["name"] for m in _PAIR.finditer(c)} for c in calls]
    if "REC->isa == 1" in fmt_line and len(tables) >= 2:
        return ReasonTables(vmx=tables[0], svm=tables[1])
    # an older kernel prints one table, chosen at build time: tell by its names
    only = tables[0]
    if any(name.isupper() for name in only.values()):
        return ReasonTables(vmx=only)
    return ReasonTables(svm=only)


# ---- the kernel source's table ------------------------------------------------------------

EXIT_KEYS = ("vcpu", "reason", "lat.log2")


def exit_counts(text: str, source: str = "hist") -> ExitCounts:
    """The kernel source's table (keys vcpu, reason, lat.log2; vals hitcount, lat) in a hist file.

    An empty file or a table with no entries yet is a reading of zero exits.
    """
    tables = parse_hist(text, source)
    for table in tables:
        if table.trigger.startswith("hist:keys=vcpu,reason,lat.log2:"):
            cells: dict[tuple[int, int, int], tuple[int, int]] = {}
            for e in table.entries:
                try:
                    key = (e.keys["vcpu"], e.keys["reason"], e.keys["lat.log2"])
                    cells[key] = (e.values["hitcount"], e.values["lat"])
                except KeyError as missing:
                    raise HistParseError(
                        source,
                        0,
                        f"keys {', '.join(EXIT_KEYS)} and vals hitcount, lat",
                        f"no {missing} in {e.keys} {e.values}",
                    ) from None
            return ExitCounts(cells, table.dropped or 0)
    raise HistParseError(
        source,
        1,
        "a table keyed on vcpu,reason,lat.log2",
        ", ".join(t.trigger[:60] for t in tables) or "no tables",
    )
