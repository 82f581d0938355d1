"""The lines of what `perf kvm stat report` and `perf kvm stat live` print, and the parse errors.

The layout follows perf's `print_result()` (tools/perf/builtin-kvm.c)::

    [live: ESC[H ESC[2J "\\n" on stdout, then "%H:%M:%S.%06ld"]
    "\\n\\n"
    "Analyze events for " ("all VMs, " | "pid(s) %s, ") ("all VCPUs:\\n\\n" | "VCPU %d:\\n\\n")
    "%*s %10s %9s %9s %11s %11s %16s \\n\\n"           title, Samples ... Avg time
    "%*s %10llu %8.2f%% %8.2f%% %9.2fus %9.2fus %9.2fus ( +-%7.2f%% )\\n"   per row
    "\\nTotal Samples:%llu, Total events handled time:%.2fus.\\n\\n"
    ["\\nLost events: %llu\\n\\n"]

The patterns below classify each line; `vmexit_tui.formats.perf_stream_parser` reads the
lines in order. Rows are read by tokens anchored at the right, so wide values that overflow
their column and names containing spaces (SVM's "PF excp") parse. A row that a pager cut off
(ending in ">") keeps the fields that are whole; a cut spread becomes an upper bound. Anything
else that is not perf's layout raises `ReportParseError`, naming the line and what was expected.
"""

from __future__ import annotations

import re

from vmexit_tui.analysis.model import Scope
from vmexit_tui.formats.pasted_lines import (
    binary_hint,
    looks_binary,
)

CLEAR_SCREEN = "\x1b[H\x1b[2J"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NUM = r"[-+]?(?:\d+\.\d+|nan|inf)"
TIMESTAMP = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{6}$")
ANALYZE = re.compile(
    r"^Analyze events for (?:(?P<all>all VMs), |pid\(s\) (?P<pids>[^,]+(?:,\s*\d+)*), "
    r"|(?P<dazed>dazed and confused on what is monitored, ))?"
    r"(?:(?P<allv>all VCPUs)|VCPU (?P<vcpu>\d+)):$"
)
COLUMNS = re.compile(
    r"^(?P<lead>\s*)(?P<title>VM-EXIT|MMIO Access|IO Port Access|MSR Access)\s+Samples\s+Samples%"
    r"\s+Time%(?P<minmax>\s+Min Time\s+Max Time)?\s+Avg time\s*$"
)
ROW = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)\s+(?P<sp>{NUM})%\s+(?P<tp>{NUM})%"
    rf"\s+(?P<min>{NUM})us\s+(?P<max>{NUM})us\s+(?P<mean>{NUM})us"
    rf"\s+\(\s*\+-\s*(?P<rel>{NUM})%\s*\)$"
)
ROW_OLD = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)\s+(?P<sp>{NUM})%\s+(?P<tp>{NUM})%"
    rf"\s+(?P<mean>{NUM})us\s+\(\s*\+-\s*(?P<rel>{NUM})%\s*\)$"
)
# A row cut by a pager: whole fields in order, then whatever part of the next one is visible.
ROW_CUT = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)(?=\s)"
    rf"(?:\s+(?P<sp>{NUM})%(?:\s+(?P<tp>{NUM})%"
    rf"(?:\s+(?P<min>{NUM})us(?:\s+(?P<max>{NUM})us(?:\s+(?P<mean>{NUM})us"
    rf"(?:\s*\(\s*(?:\+-?\s*(?P<rel>\d*\.?\d*))?)?)?)?)?)?)?"
    r"(?P<partial>\s*[^\s>]*)$"
)
TOTAL = re.compile(rf"^Total Samples:(?P<n>\d+), Total events handled time:(?P<t>{NUM})us\.$")
LOST = re.compile(r"^Lost events: (?P<n>\d+)$")
UNKNOWN_CODE = re.compile(r"^unknown kvm exit code:-?\d+ on \w+$")


class ReportParseError(ValueError):
    """Input that is not perf kvm stat's layout: where, what was expected, what was found."""

    def __init__(self, source: str, line: int, expected: str, found: str) -> None:
        self.source = source
        self.line = line
        self.expected = expected
        self.found = found
        shown = found if len(found) <= 80 else found[:77] + "..."
        super().__init__(f"{source}:{line}: expected {expected}, found {shown!r}")


class WrappedRowError(ReportParseError):
    """A row split over two lines, as mail clients wrap long lines: still an error, said so."""

    def __init__(self, source: str, line: int, first: str, second: str) -> None:
        ValueError.__init__(
            self,
            f"{source}:{line}: this row looks wrapped over two lines (as a mail client wraps "
            f"long lines); join lines {line} and {line + 1} and try again: "
            f"{first!r} + {second!r}",
        )
        self.source, self.line = source, line
        self.expected, self.found = "one row per line", f"{first} {second}"


class BinaryInput(ValueError):
    """Bytes that are not text at all (a perf.data file, an image, ...)."""

    def __init__(self, source: str, hint: str = "") -> None:
        self.source = source
        super().__init__(f"{source}: binary file, not a perf kvm stat report{hint}")


def decode_input(data: bytes, source: str) -> str:
    """The text of a report file; `BinaryInput` when the bytes are not text."""
    if looks_binary(data):
        raise BinaryInput(source, binary_hint(data))
    return data.decode("utf-8", errors="replace")


def num(text: str | None) -> float | None:
    if text is None:
        return None
    value = float(text)
    return None if value != value or value in (float("inf"), float("-inf")) else value


def cut_bound(prefix: str) -> float | None:
    """Upper bound of a spread whose printed value was cut after `prefix` ("0.4" -> 0.5).

    perf prints the spread as "%7.2f", right-aligned, so a cut at a fixed column always keeps
    the whole integer part: "21" means 21.xx, below 22.
    """
    prefix = prefix.rstrip(".")
    if not prefix:
        return None
    if "." in prefix:
        decimals = len(prefix.split(".", 1)[1])
        return round(float(prefix) + 10.0**-decimals, decimals)
    return float(int(prefix) + 1)


ROWISH = re.compile(r"\S\s+\d+\s+[-+]?\d+(?:\.\d+)?%")


def split_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def scope_of(m: re.Match[str]) -> Scope:
    pids: tuple[int, ...] = ()
    if m["pids"]:
        try:
            pids = tuple(int(p) for p in re.split(r"[,\s]+", m["pids"].strip()) if p)
        except ValueError:
            pids = ()
    vcpu = int(m["vcpu"]) if m["vcpu"] is not None else None
    return Scope(pids=pids, vcpu=vcpu)
