"""Argument lists for the perf commands vmexit-tui runs, and perf version detection.

Facts they respect (see docs/perf-notes.md, checked on perf 6.1 here):
- `-i` belongs to `perf kvm`, not to `stat report`: `perf kvm -i FILE stat report --event=K`.
- `stat report` opens its own TUI from perf 6.4 when stdout is a terminal; `--stdio` forces
  text there, but perf up to 6.3 rejects `--stdio`, so it is added only from 6.4 on.
- `--switch-output=<N>s` takes whole seconds (perf's time tags are s, m, h, d).
- Never bare `perf kvm stat`: it runs system-wide `perf stat` until killed. Every builder
  here names a subcommand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike

from vmexit_tui.analysis.model import EventKind

STDIO_SINCE = (6, 4)
_VERSION = re.compile(r"(?:^|perf version )(?P<major>\d+)\.(?P<minor>\d+)(?P<rest>\S*)")


class PerfNotUsable(RuntimeError):
    """perf does not say which version it is."""


@dataclass(frozen=True, slots=True, order=True)
class PerfVersion:
    """perf's version as `perf version` prints it (`perf version 6.1.187`)."""

    major: int
    minor: int
    text: str = ""

    @property
    def accepts_stdio(self) -> bool:
        """True when `stat report` knows `--stdio` (perf >= 6.4)."""
        return (self.major, self.minor) >= STDIO_SINCE

    def __str__(self) -> str:
        return self.text or f"{self.major}.{self.minor}"


def parse_perf_version(text: str) -> PerfVersion:
    """Read `perf version` output or a bare "6.1.187"; raise `PerfNotUsable` otherwise."""
    m = _VERSION.search(text.strip())
    if not m:
        shown = text.strip().splitlines()[0] if text.strip() else "no output"
        raise PerfNotUsable(f"'perf version' printed {shown!r}, expected 'perf version X.Y...'")
    return PerfVersion(int(m["major"]), int(m["minor"]), f"{m['major']}.{m['minor']}{m['rest']}")


def whole_seconds(interval_s: float, what: str = "interval") -> int:
    """`interval_s` as whole seconds >= 1; perf takes nothing finer."""
    if interval_s < 1 or float(interval_s) != int(interval_s):
        raise ValueError(f"{what} must be a whole number of seconds >= 1, got {interval_s!r}")
    return int(interval_s)


def record_argv(
    pid: int, output: str | PathLike[str], *, interval_s: float = 1.0, perf: str = "perf"
) -> list[str]:
    """`perf kvm stat record` of one process, rotating its output on SIGUSR2.

    The recorder sends SIGUSR2 every `interval_s` (see `PerfRecorder`): perf's own timer
    (`--switch-output=Ns`) is armed with `alarm()` while options are parsed, before perf can
    rotate; when its setup outlasts the interval (a loaded host) that alarm is dropped, never
    re-armed, and perf writes one ever-growing file. Finished chunks appear as
    `<output>.<YYYYmmddHHMMSScc>`; `<output>` itself is the chunk being written. A vCPU is
    chosen at report time (`--vcpu`), not here.
    """
    whole_seconds(interval_s)
    return [
        perf, "kvm", "stat", "record",
        "-p", str(pid),
        "-o", str(output),
        "--switch-output=signal",
    ]  # fmt: skip


def report_argv(
    chunk: str | PathLike[str],
    event: EventKind = EventKind.VMEXIT,
    *,
    vcpu: int | None = None,
    version: PerfVersion | None = None,
    perf: str = "perf",
) -> list[str]:
    """`perf kvm -i CHUNK stat report --event=K` (the table arrives on stderr)."""
    argv = [perf, "kvm", "-i", str(chunk), "stat", "report", f"--event={EventKind(event)}"]
    if vcpu is not None:
        argv.append(f"--vcpu={vcpu}")
    if version is not None and version.accepts_stdio:
        argv.append("--stdio")
    return argv


def stats_argv(chunk: str | PathLike[str], *, perf: str = "perf") -> list[str]:
    """`perf report --stats`: how many samples a chunk holds, of any event."""
    return [perf, "report", "-i", str(chunk), "--stats"]


def live_argv(
    pid: int,
    event: EventKind = EventKind.VMEXIT,
    *,
    interval_s: float = 1.0,
    vcpu: int | None = None,
    perf: str = "perf",
) -> list[str]:
    """`perf kvm stat live -d N -p PID --event=K`: one block per interval, counters reset."""
    seconds = whole_seconds(interval_s)
    argv = [
        perf, "kvm", "stat", "live",
        "-d", str(seconds),
        "-p", str(pid),
        f"--event={EventKind(event)}",
    ]  # fmt: skip
    if vcpu is not None:
        argv.append(f"--vcpu={vcpu}")
    return argv


_SAMPLE_EVENTS = re.compile(r"^\s*SAMPLE events:\s*(\d+)", re.MULTILINE)


def parse_sample_count(stats_text: str) -> int | None:
    """The aggregated `SAMPLE events: N` of `perf report --stats`, if printed."""
    m = _SAMPLE_EVENTS.search(stats_text)
    return int(m.group(1)) if m else None
