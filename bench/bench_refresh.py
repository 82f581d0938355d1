"""Cost of one refresh at chunk 1 and at chunk 3,600 of a simulated one-hour recording.

A refresh is what PerfRecorder does per finished chunk: take perf's Dump announcement
(ChunkTracker.announce), report that one chunk with the real perf (`perf kvm -i CHUNK stat
report --event=vmexit`, an asyncio subprocess), parse a 70-reason report in perf's layout and
merge it (RunAccumulator.add). This host's KVM reports no exits, so perf's own table is
empty: the 70-reason text comes from the writer, in perf's exact layout. Goal: the two
figures within 10% of each other.

Run: python bench/bench_refresh.py [--reps N]   (needs perf; prints figures)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import CHUNKS, REASONS, chunk_texts

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.recording.perf_argv import report_argv
from vmexit_tui.recording.perf_chunks import ChunkTracker
from vmexit_tui.recording.perf_record import parse_chunk_report
from vmexit_tui.recording.perf_supervision import run_collect

START = datetime(2026, 1, 1, 12, 0, 0).timestamp()


def chunk_name(i: int) -> str:
    t = datetime.fromtimestamp(START + i + 1)
    return f"perf.data.{t:%Y%m%d%H%M%S}00"


async def refresh(tracker: ChunkTracker, acc: RunAccumulator, i: int, text: str) -> float:
    t0 = time.perf_counter()
    chunk = tracker.announce(tracker.folder / chunk_name(i))
    assert chunk is not None
    code, out, err = await run_collect(report_argv(chunk.path, EventKind.VMEXIT))
    assert code == 0, err
    parse_chunk_report(err + out, EventKind.VMEXIT, source=chunk.name)  # perf's (empty) table
    report = parse_chunk_report(text, EventKind.VMEXIT, source=chunk.name)  # 70 reasons
    acc.add(Interval(chunk.index, chunk.start, chunk.end, {EventKind.VMEXIT: report}))
    return time.perf_counter() - t0


async def main(reps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        real = folder / "real.data"
        subprocess.run(
            ["perf", "kvm", "stat", "record", "-o", str(real), "--", "sleep", "0.05"],
            capture_output=True,
            check=True,
        )
        for i in range(CHUNKS + reps + 1):
            os.link(real, folder / chunk_name(i))  # a real perf.data file per chunk
        texts = chunk_texts(64)

        # chunks 1..3599 merged (without perf: the state, not the timing, is what matters)
        tracker, acc = ChunkTracker(folder, START), RunAccumulator()
        t0 = time.perf_counter()
        for i in range(CHUNKS - 1):
            chunk = tracker.announce(folder / chunk_name(i))
            report = parse_chunk_report(texts[i % len(texts)], EventKind.VMEXIT, source="x")
            acc.add(Interval(chunk.index, chunk.start, chunk.end, {EventKind.VMEXIT: report}))
        fill = time.perf_counter() - t0

        # Interleaved, after a warm-up, so drift of the machine hits both alike:
        # chunk 1 of a fresh recording, then chunk 3600 (3601, ...) of the long one.
        for _ in range(5):
            await refresh(ChunkTracker(folder, START), RunAccumulator(), 0, texts[0])
        early, late = [], []
        for r in range(reps):
            fresh = ChunkTracker(folder, START), RunAccumulator()
            early.append(await refresh(*fresh, 0, texts[r % len(texts)]))
            late.append(await refresh(tracker, acc, CHUNKS - 1 + r, texts[r % len(texts)]))

    e, lt = statistics.median(early), statistics.median(late)
    series = acc.reason_series(EventKind.VMEXIT, "REASON_00")
    print(f"{REASONS} reasons, {reps} refreshes each, median (perf report + parse + merge):")
    print(f"  chunk 1:     {e * 1e3:7.2f} ms")
    print(f"  chunk {CHUNKS}:  {lt * 1e3:7.2f} ms   ({(lt / e - 1) * 100:+.1f}% vs chunk 1)")
    print(f"  merge-only fill of {CHUNKS - 1} chunks: {fill:.1f} s "
          f"({fill / (CHUNKS - 1) * 1e3:.2f} ms per chunk)")  # fmt: skip
    print(f"  series points per reason after the hour: {len(series)} (capacity {acc.capacity})")
    print(f"  within 10%: {'yes' if abs(lt / e - 1) <= 0.10 else 'NO'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=40)
    asyncio.run(main(ap.parse_args().reps))
