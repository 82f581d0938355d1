"""`perf stat -x, -I MS` lines: one counter reading per line, grouped into intervals.

perf 6.1 prints (on stderr), for each interval, one line per counter in the order the events
were given on the command line::

         1.032882522,12345,,kvm:kvm_exit,1000523120,100.00,,
         1.032882522,<not counted>,,kvm:kvm_exit,0,100.00,,

fields: seconds since start, count (or `<not counted>` when the threads did not run in the
interval, `<not supported>`), unit, event, enabled time in ns, percentage running, metric.
Every counter here is the same tracepoint with a different filter, so a reading is known by
its position in the interval's group, not by its event name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["StatLine", "StatParseError", "StatStream", "parse_stat_line"]

_NUMBER = re.compile(r"^\d+$")


class StatParseError(ValueError):
    def __init__(self, source: str, line: int, expected: str, found: str) -> None:
        super().__init__(f"{source}:{line}: expected {expected}, found {found[:80]!r}")


@dataclass(frozen=True, slots=True)
class StatLine:
    """One counter reading: interval end (s since perf started), count (0 when not counted)."""

    time: float
    count: int
    event: str
    counted: bool = True


def parse_stat_line(line: str, source: str = "perf stat", lineno: int = 0) -> StatLine | None:
    """A reading, or None for a line that is not one (comments, blank, perf's messages)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split(",")
    if len(parts) < 4:
        return None
    try:
        stamp = float(parts[0])
    except ValueError:
        return None
    raw, event = parts[1].strip(), parts[3].strip()
    if raw.startswith("<"):
        return StatLine(stamp, 0, event, counted=False)
    if not _NUMBER.match(raw):
        raise StatParseError(source, lineno, "a count, `<not counted>` or `<not supported>`", text)
    return StatLine(stamp, int(raw), event)


class StatStream:
    """Lines in, finished interval groups out: a group is complete with `n_counters` readings."""

    def __init__(self, n_counters: int, source: str = "perf stat") -> None:
        if n_counters < 1:
            raise ValueError("n_counters must be >= 1")
        self.n = n_counters
        self.source = source
        self._lineno = 0
        self._group: list[StatLine] = []

    def feed(self, line: str) -> list[list[StatLine]]:
        """Take one line; the groups it completed (at most one, or one cut short)."""
        self._lineno += 1
        reading = parse_stat_line(line, self.source, self._lineno)
        if reading is None:
            return []
        done: list[list[StatLine]] = []
        if self._group and reading.time != self._group[0].time:
            done.append(self._group)  # cut short: perf stopped mid-interval before
            self._group = []
        self._group.append(reading)
        if len(self._group) == self.n:
            done.append(self._group)
            self._group = []
        return done

    def close(self) -> list[list[StatLine]]:
        """A group left incomplete at the end (perf was stopped mid-print)."""
        group, self._group = self._group, []
        return [group] if group else []
