"""`vmexit-tui latency FILE|- [--json]`: cyclictest's output (live lines, -h, --json) summarized."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from vmexit_tui.analysis.latency import LatencySummary, LatencyTracker, summarize
from vmexit_tui.commands._arg_types import positive_float
from vmexit_tui.formats.cyclictest import (
    CyclictestFormatError,
    CyclictestStream,
    looks_like_json,
    parse_json,
)

NAME = "latency"
HELP = "summarize cyclictest output (its printed lines, -h histogram or --json file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="what cyclictest printed, its --json file, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--spike-us",
        type=positive_float,
        metavar="N",
        help="a spike is a latency above N µs (default: the 99.9th percentile seen so far)",
    )
    parser.add_argument(
        "--ns",
        action="store_true",
        help="the printed lines are in ns (cyclictest -N); a --json file says so by itself",
    )


def summarize_lines(
    chunks: Iterable[str], *, spike_us: float | None = None, source: str = "", nsecs: bool = False
) -> LatencySummary:
    """Parse cyclictest's printed output (in ns with `nsecs`: cyclictest -N); spikes are timed
    in cyclictest seconds (cycles × interval) and grouped per second."""
    stream = CyclictestStream(nsecs)
    tracker = LatencyTracker(spike_us)
    second: int | None = None

    def statuses() -> Iterator:
        for chunk in chunks:
            yield from stream.feed(chunk)
        yield from stream.close()

    for status in statuses():
        t = status.elapsed_s
        now = math.floor(t)
        if second is not None and now > second:
            tracker.take(second, second + 1)
        second = now if second is None else max(second, now)
        tracker.add(status, t)
    if second is not None:
        tracker.take(second, second + 1)
    threads = stream.summaries()
    if not threads:
        raise CyclictestFormatError(
            source,
            1,
            "cyclictest output (T: status lines, a -h histogram or a --json file)",
            f"{stream.lines} lines of something else" if stream.lines else "nothing",
        )
    return summarize(threads, tracker, skipped_lines=stream.skipped_lines, source=source)


def load(path: str, *, spike_us: float | None = None, nsecs: bool = False) -> LatencySummary:
    """A summary of the file at `path` (or stdin for `-`), JSON or printed text."""
    if path == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        source = path
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    if looks_like_json(text):
        _, threads = parse_json(text, source=source)
        return summarize(threads, None, source=source)
    return summarize_lines([text], spike_us=spike_us, source=source, nsecs=nsecs)


def render_text(summary: LatencySummary) -> str:
    """A table per thread, then p99.9, spikes and skipped lines."""

    def cell(v: object) -> str:
        if v is None:
            return "-"
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    head = ("THREAD", "CPU", "CYCLES", "MIN µs", "AVG µs", "MAX µs", "HIST BUCKETS")
    rows = [
        (str(t.thread), cell(t.cpu), str(t.cycles), cell(t.min_us), cell(t.avg_us),
         cell(t.max_us), str(len(t.histogram)))
        for t in summary.threads
    ]  # fmt: skip
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    p999 = "-" if summary.p999_us is None else f"{summary.p999_us} µs ({summary.p999_source})"
    lines.append(f"max {cell(summary.max_us)} µs, p99.9 {p999}")
    lines.append(f"spikes: {len(summary.spikes)}")
    for s in summary.spikes[:20]:
        lines.append(
            f"  t={s.time:.3f}s thread {s.thread}: {s.latency_us} µs (threshold {s.threshold_us:g})"
        )
    if len(summary.spikes) > 20:
        lines.append(f"  … {len(summary.spikes) - 20} more (see --json)")
    if summary.skipped_lines:
        lines.append(f"skipped lines (not cyclictest's): {summary.skipped_lines}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        summary = load(args.file, spike_us=args.spike_us, nsecs=args.ns)
    except CyclictestFormatError as err:
        print(f"vmexit-tui latency: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"vmexit-tui latency: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(summary.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(summary))
    return 0
