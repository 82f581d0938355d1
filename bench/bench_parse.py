"""Parse throughput: rows per second of `perf kvm stat report` text and of `live` blocks.

Run: python bench/bench_parse.py   (prints figures; nothing is asserted)
Also holds the simulated chunk generator the other benchmarks use.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope, with_shares
from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.formats.perf_stream_parser import ReportStreamParser
from vmexit_tui.formats.perf_writer import format_report

REASONS = 70
CHUNKS = 3600


def chunk_report(rng: random.Random, pid: int = 4242, timestamp: str | None = None) -> Report:
    """One chunk's (or live block's) report: 70 reasons with realistic figures."""
    rows = []
    for i in range(REASONS):
        n = rng.randint(1, 5000 // (i + 1) + 1)
        mean = round(rng.uniform(0.3, 50.0), 2)
        rows.append(
            ExitStat(
                reason=f"REASON_{i:02d}",
                samples=n,
                min_us=round(mean * 0.5, 2),
                max_us=round(mean * 3, 2),
                mean_us=mean,
                rel_stddev_pct=round(rng.uniform(0, 20), 2) if n > 1 else 0.0,
            )
        )
    report = Report(EventKind.VMEXIT, tuple(rows), scope=Scope(pids=(pid,)), timestamp=timestamp)
    return with_shares(report)


def chunk_texts(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [format_report(chunk_report(rng)) for _ in range(count)]


def main() -> None:
    texts = chunk_texts(500)
    rows = 0
    t0 = time.perf_counter()
    for text in texts:
        rows += len(parse_reports(text)[0].rows)
    dt = time.perf_counter() - t0
    print(f"report text: {len(texts)} reports x {REASONS} rows: {rows / dt:,.0f} rows/s "
          f"({dt / len(texts) * 1e3:.2f} ms per report)")  # fmt: skip

    rng = random.Random(2)
    blocks = [
        format_report(
            chunk_report(rng, timestamp=f"14:{i // 60:02d}:{i % 60:02d}.000412"), live=True
        )
        for i in range(500)
    ]
    stream = "".join(blocks)
    parser = ReportStreamParser("live")
    t0 = time.perf_counter()
    got = 0
    for i in range(0, len(stream), 4096):  # as a pipe delivers it
        got += len(parser.feed(stream[i : i + 4096]))
    got += len(parser.close())
    dt = time.perf_counter() - t0
    print(f"live blocks: {got} blocks x {REASONS} rows streamed in 4 KiB reads: "
          f"{got * REASONS / dt:,.0f} rows/s ({got / dt:,.0f} blocks/s)")  # fmt: skip


if __name__ == "__main__":
    main()
