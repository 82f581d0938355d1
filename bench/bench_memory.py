"""Memory after a simulated one-hour recording: 3,600 one-second chunks, 70 exit reasons.

Feeds RunAccumulator the way PerfRecorder's consumer does (parse each chunk report, add it)
and prints the process RSS and the series lengths, which must stay bounded (the series
halve their resolution when full). Goal: RSS under 150 MB.

Run: python bench/bench_memory.py   (prints figures)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import CHUNKS, REASONS, chunk_texts

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.recording.perf_record import parse_chunk_report


def main() -> None:
    proc = psutil.Process()
    texts = chunk_texts(64)
    before = proc.memory_info().rss
    acc = RunAccumulator()
    t0 = time.perf_counter()
    for i in range(CHUNKS):
        report = parse_chunk_report(texts[i % len(texts)], EventKind.VMEXIT, source=f"c{i}")
        acc.add(Interval(i, float(i), float(i + 1), {EventKind.VMEXIT: report}))
    dt = time.perf_counter() - t0
    rss = proc.memory_info().rss
    lengths = {len(s) for s in acc.series[EventKind.VMEXIT].values()}
    print(f"simulated hour: {CHUNKS} chunks x {REASONS} reasons in {dt:.1f} s")
    print(f"  series points per reason: {sorted(lengths)} (capacity {acc.capacity})")
    print(f"  RSS: {rss / 2**20:.1f} MB (grew {(rss - before) / 2**20:.1f} MB); "
          f"under 150 MB: {'yes' if rss < 150 * 2**20 else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
