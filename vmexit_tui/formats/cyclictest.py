"""Parsers of cyclictest's output (rt-tests 2.x): live status lines, `-h` histograms, `--json`.

cyclictest prints, every ~10 ms unless `-q`:

    policy: fifo: loadavg: 2.40 1.94 0.87 3/109 11807

    T: 0 (11806) P:95 I:1000 C:   2972 Min:     10 Act:   15 Avg:   27 Max:   16252
    T: 1 (11807) P:95 I:1500 C:   1992 Min:     11 Act:   13 Avg:   25 Max:    6656
    ESC[4A

(`ESC[<threads+2>A` moves the cursor back up so a terminal overwrites the block.) Min, Avg and
Max are cumulative since the start, Act is the latest latency, Avg is truncated to whole µs; a
thread that has not run yet shows `C: 0 Min: 1000000`. With `-h US` it ends with a histogram,
one row per µs `000012 000017\t000227` (a last column sums the threads with `-H`), then
`# Total:`, `# Min Latencies:`, `# Avg Latencies:`, `# Max Latencies:`,
`# Histogram Overflows:` lines. `--json=FILE` writes a summary whose keys include
`"cmdline:"` and `"rt_test_version:"` (with the colon) and per thread `cycles min max avg cpu
node histogram` (the histogram holds the non-empty in-range buckets).

`CyclictestStream` parses text as it arrives (any chunking: partial lines are kept until their
end), through a pipe or a terminal (`\\r\\n`, escape sequences), also from a serial console
log where other lines interleave. A line that is neither cyclictest's nor blank is skipped
and counted, never fatal. `parse_json` reads the `--json` file.

With `-N` cyclictest prints every latency in ns (status lines, histogram, trailer) and nothing
in the printed text says so: `CyclictestStream(nsecs=True)` converts to µs, and
`nsecs_requested` finds `-N` in a command line. The `--json` file says it
(`"resolution_in_ns": 1`), and `parse_json` converts by itself.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CyclictestFormatError",
    "CyclictestStream",
    "ThreadStatus",
    "ThreadSummary",
    "nsecs_requested",
    "parse_json",
    "parse_text",
]

# CSI sequences (cursor movement, erase, colour) and lone control characters but \t.
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]")
_STATUS = re.compile(
    r"T:\s*(?P<thread>\d+)\s+\(\s*(?P<tid>\d+)\)\s+P:\s*(?P<prio>-?\d+)\s+I:\s*(?P<interval>\d+)"
    r"\s+C:\s*(?P<cycles>\d+)\s+Min:\s*(?P<min>\d+)\s+Act:\s*(?P<act>\d+)\s+Avg:\s*(?P<avg>\d+)"
    r"\s+Max:\s*(?P<max>\d+)(?:\s+SMI:\s*\d+)?\s*$"
)
_HIST_ROW = re.compile(r"^(\d{6})((?:\s+\d+)+)\s*$")
_TRAILER = re.compile(
    r"^# (?P<key>Total|Min Latencies|Avg Latencies|Max Latencies|Histogram Overflows):"
    r"(?P<values>(?:\s+\d+)*)\s*$"
)
# What cyclictest prints besides status and histogram lines (recognised, not counted skipped).
_KNOWN = re.compile(
    r"^(?:# /dev/cpu_dma_latency set to|policy: |# Histogram|# Thread Ids:|# Thread \d+:"
    r"|# Histogram Overflow at cycle number:|# Break (?:thread|value):|Thread \d+ Interval:"
    r"|#-+$|# cyclictest current status:|\d+:\s*\d+:\s*\d+$)"
)
NOT_STARTED_MIN = 1000000  # cyclictest's initial Min before the first cycle


class CyclictestFormatError(ValueError):
    """A file that is not cyclictest output at all: `source:line: expected ..., found ...`."""

    def __init__(self, source: str, line: int, expected: str, found: str) -> None:
        super().__init__(f"{source}:{line}: expected {expected}, found {found}")
        self.source, self.line = source, line


@dataclass(frozen=True, slots=True)
class ThreadStatus:
    """One status line: cumulative figures of one measuring thread (µs unless -N)."""

    thread: int
    tid: int
    priority: int
    interval_us: int
    cycles: int
    min_us: int
    act_us: int
    avg_us: int
    max_us: int

    @property
    def started(self) -> bool:
        """False for the `C: 0 Min: 1000000` placeholder printed before the first cycle."""
        return self.cycles > 0

    @property
    def elapsed_s(self) -> float:
        """Seconds since the thread started, from cycles × interval."""
        return self.cycles * self.interval_us / 1e6


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """What is known of one thread at the end: from status lines, a histogram or `--json`."""

    thread: int
    cpu: int | None = None
    cycles: int = 0
    min_us: int | None = None
    avg_us: float | None = None
    max_us: int | None = None
    histogram: Mapping[int, int] = field(default_factory=dict)  # µs -> count, in range only
    overflows: int | None = None

    def to_json(self) -> dict:
        """The per-thread object of `vmexit-tui latency --json`."""
        return {
            "thread": self.thread,
            "cpu": self.cpu,
            "cycles": self.cycles,
            "min_us": self.min_us,
            "avg_us": self.avg_us,
            "max_us": self.max_us,
            "histogram": {str(k): v for k, v in sorted(self.histogram.items())},
            "overflows": self.overflows,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ThreadSummary:
        """The inverse of `to_json` (snapshots)."""
        return cls(
            thread=int(data["thread"]),
            cpu=data.get("cpu"),
            cycles=int(data.get("cycles") or 0),
            min_us=data.get("min_us"),
            avg_us=data.get("avg_us"),
            max_us=data.get("max_us"),
            histogram={int(k): int(v) for k, v in (data.get("histogram") or {}).items()},
            overflows=data.get("overflows"),
        )


def nsecs_requested(argv: Iterable[str]) -> bool:
    """Whether a command line asks cyclictest for ns: `-N`, `--nsecs` or `N` in a group of
    short flags (`-qmN`) after the `cyclictest` word, also inside a quoted remote command
    (`ssh guest "cyclictest -N"`); another program's `-N` before it (ssh's) does not count.
    False when no `cyclictest` word is seen (a wrapper script): say `--latency-ns` then."""
    words = [w for a in argv for w in (shlex.split(a) if " " in a else [a])]
    start = next((i for i, w in enumerate(words) if Path(w).name == "cyclictest"), None)
    if start is None:
        return False
    flags = words[start + 1 :]
    return any(w == "--nsecs" or re.fullmatch(r"-[a-zA-Z]*N[a-zA-Z]*", w) for w in flags)


def _ns_to_us(value: int) -> int:
    return (value + 500) // 1000


class CyclictestStream:
    """Incremental parser: `feed(text)` returns the status lines completed by that text;
    with `nsecs` (cyclictest -N) its latencies are converted from ns to µs."""

    def __init__(self, nsecs: bool = False) -> None:
        self.nsecs = nsecs
        self._partial = ""
        self.skipped_lines = 0
        self.lines = 0
        self.last: dict[int, ThreadStatus] = {}
        self._hist_rows: list[tuple[int, list[int]]] = []
        self._trailer: dict[str, list[int]] = {}

    def feed(self, text: str) -> list[ThreadStatus]:
        """Parse `text` appended to what came before; a trailing partial line waits."""
        data = self._partial + text
        *complete, self._partial = re.split(r"\r?\n|\r(?!$)", data) if data else [""]
        return [s for line in complete if (s := self._line(line)) is not None]

    def close(self) -> list[ThreadStatus]:
        """End of input: parse a last line that had no newline."""
        rest, self._partial = self._partial, ""
        status = self._line(rest) if rest else None
        return [status] if status is not None else []

    def _line(self, raw: str) -> ThreadStatus | None:
        self.lines += 1
        line = _ESCAPE.sub("", raw).strip()
        if not line:
            return None
        us = _ns_to_us if self.nsecs else int
        m = _STATUS.search(line)
        if m is not None:
            cycles = int(m["cycles"])
            status = ThreadStatus(
                thread=int(m["thread"]),
                tid=int(m["tid"]),
                priority=int(m["prio"]),
                interval_us=int(m["interval"]),  # -i is µs with or without -N
                cycles=cycles,
                min_us=us(int(m["min"])) if cycles else int(m["min"]),  # the 1000000 placeholder
                act_us=us(int(m["act"])),
                avg_us=us(int(m["avg"])),
                max_us=us(int(m["max"])),
            )
            self.last[status.thread] = status
            return status
        if (h := _HIST_ROW.match(line)) is not None:
            self._hist_rows.append((us(int(h[1])), [int(v) for v in h[2].split()]))
            return None
        if (t := _TRAILER.match(line)) is not None:
            values = [int(v) for v in t["values"].split()]
            if t["key"].endswith("Latencies"):
                values = [us(v) for v in values]
            self._trailer[t["key"]] = values
            return None
        if _KNOWN.match(line) is None:
            self.skipped_lines += 1
        return None

    def summaries(self) -> list[ThreadSummary]:
        """Per thread: the last status line, made exact by the `-h` trailer when there is one."""
        threads = sorted(set(self.last) | set(range(len(self._trailer.get("Max Latencies", [])))))
        out = []
        for n in threads:
            status = self.last.get(n)
            cycles = status.cycles if status else 0
            started = status is not None and status.started
            mn = status.min_us if started and status else None
            avg: float | None = float(status.avg_us) if started and status else None
            mx = status.max_us if started and status else None
            hist: dict[int, int] = {}
            overflows = None
            trailer = self._trailer
            if "Max Latencies" in trailer and n < len(trailer["Max Latencies"]):
                mn = _at(trailer, "Min Latencies", n, mn)
                avg_t = _at(trailer, "Avg Latencies", n, None)
                avg = float(avg_t) if avg_t is not None else avg
                mx = _at(trailer, "Max Latencies", n, mx)
                overflows = _at(trailer, "Histogram Overflows", n, None)
                hist = _buckets((us, vals[n]) for us, vals in self._hist_rows if n < len(vals))
                total = _at(trailer, "Total", n, None)
                if total is not None:
                    cycles = max(cycles, total + (overflows or 0))
            out.append(
                ThreadSummary(
                    thread=n,
                    cycles=cycles,
                    min_us=mn,
                    avg_us=avg,
                    max_us=mx,
                    histogram=hist,
                    overflows=overflows,
                )
            )
        return out


def _at(trailer: Mapping[str, list[int]], key: str, n: int, default: int | None) -> int | None:
    values = trailer.get(key, [])
    return values[n] if n < len(values) else default


def parse_text(
    chunks: Iterable[str], *, nsecs: bool = False
) -> tuple[list[ThreadStatus], CyclictestStream]:
    """All status lines of a whole text (given in any chunks), and the stream that read them."""
    stream = CyclictestStream(nsecs)
    statuses: list[ThreadStatus] = []
    for chunk in chunks:
        statuses.extend(stream.feed(chunk))
    statuses.extend(stream.close())
    return statuses, stream


def _key(data: Mapping, name: str) -> object:
    """A JSON key as rt-tests 2.x spells it, with or without its trailing colon."""
    return data.get(name, data.get(name + ":"))


def parse_json(text: str, source: str = "<json>") -> tuple[dict[str, object], list[ThreadSummary]]:
    """The `--json` file: (run metadata with colon-free keys, per-thread summaries)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CyclictestFormatError(
            source, err.lineno, "cyclictest --json output", err.msg
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("thread"), dict):
        raise CyclictestFormatError(source, 1, 'an object with a "thread" object', "none")
    meta = {k.rstrip(":"): v for k, v in data.items() if k != "thread"}
    ns = bool(meta.get("resolution_in_ns"))  # cyclictest -N: every latency in ns

    def us(value: int | None) -> int | None:
        return _ns_to_us(value) if ns and value is not None else value

    threads = []
    for key, t in sorted(data["thread"].items(), key=lambda kv: int(kv[0])):
        if not isinstance(t, dict):
            continue
        hist = _key(t, "histogram")
        cycles = _key(t, "cycles")
        threads.append(
            ThreadSummary(
                thread=int(key),
                cpu=_int_or_none(_key(t, "cpu")),
                cycles=int(cycles) if isinstance(cycles, int) else 0,
                min_us=us(_int_or_none(_key(t, "min"))),
                avg_us=(float(a) / (1000 if ns else 1))
                if isinstance(a := _key(t, "avg"), int | float)
                else None,
                max_us=us(_int_or_none(_key(t, "max"))),
                histogram=_buckets(
                    (_ns_to_us(int(k)) if ns else int(k), int(v)) for k, v in hist.items()
                )
                if isinstance(hist, dict)
                else {},
            )
        )
    return meta, threads


def _buckets(counts: Iterable[tuple[int, int]]) -> dict[int, int]:
    """µs bucket -> count, empty buckets left out; with -N many ns buckets add into one µs."""
    out: dict[int, int] = {}
    for us, count in counts:
        if count:
            out[us] = out.get(us, 0) + count
    return out


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def looks_like_json(text: str) -> bool:
    """Whether `text` is (the start of) a JSON object rather than cyclictest's printed output."""
    return text.lstrip().startswith("{")
