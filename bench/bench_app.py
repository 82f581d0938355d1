"""Performance of the app against its budget; prints figures, asserts nothing.

1. Applying one incremental report with 70 reasons to the exit table, the chart and the
   compare pane (the live run in it): median over many updates, headless run of the real
   app. Budget 20 ms.
2. CPU use of `vmexit-tui --demo` (the real console entry, in a pseudo-terminal) while its
   simulated recording streams at 1 s. Budget 2% of one core.
3. Time from launch of `vmexit-tui --demo` to its first full frame (footer drawn), and to the
   first exit reasons on screen. Budget 1 s for the first.

Run: python bench/bench_app.py [--updates 200] [--cpu-seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.helpers import Gate, feed, make_app, wide_interval  # noqa: E402
from vmexit_tui.app.widgets.compare_pane import ComparePane  # noqa: E402
from vmexit_tui.app.widgets.exit_table import ExitTable  # noqa: E402
from vmexit_tui.app.widgets.series_plot import SeriesPlot  # noqa: E402


async def _apply_bench(updates: int, size: tuple[int, int]) -> dict[str, float]:
    gate = Gate()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), gate)
        async with app.run_test(size=size) as pilot:
            await feed(pilot, app, gate, 1)
            app._picked("live")  # the live recording joins the compare pane
            await pilot.pause()
            app.action_show_tab("live")
            await pilot.pause()
            plot = app.query_one(SeriesPlot)
            table = app.query_one(ExitTable)
            pane = app.query_one(ComparePane)
            parts: dict[str, list[float]] = {"model": [], "table": [], "chart": [], "compare": []}
            totals: list[float] = []
            for i in range(updates):
                interval = wide_interval(i, 70)
                t0 = time.perf_counter()
                app.current.acc.add(interval)
                t1 = time.perf_counter()
                table.show(app.current.acc, app.kind)
                t2 = time.perf_counter()
                app._refresh_plot()
                plot._draw()  # as if visible and unthrottled: build the plotext chart
                plot.render()
                t3 = time.perf_counter()
                app.refresh_compare()  # as if the compare pane were shown
                t4 = time.perf_counter()
                for name, a, b in (("model", t0, t1), ("table", t1, t2), ("chart", t2, t3),
                                   ("compare", t3, t4)):  # fmt: skip
                    parts[name].append((b - a) * 1000)
                totals.append((t4 - t0) * 1000)
                if i % 10 == 0:
                    await pilot.pause()  # let the screen repaint now and then
            assert table.row_count >= 70 and pane.comparison is not None
            # one update end to end through the message queue, including a repaint
            wall = []
            for i in range(20):
                from vmexit_tui.app.messages import IntervalReceived

                target = app.current.acc.intervals + 1
                t0 = time.perf_counter()
                app.post_message(IntervalReceived(wide_interval(updates + i, 70)))
                while app.current.acc.intervals < target:
                    await asyncio.sleep(0)
                await pilot.pause()
                wall.append((time.perf_counter() - t0) * 1000)
            await pilot.press("q")
    out = {f"{k} median ms": statistics.median(v) for k, v in parts.items()}
    out["apply median ms"] = statistics.median(totals)
    out["apply p95 ms"] = sorted(totals)[int(len(totals) * 0.95) - 1]
    out["message to repaint median ms"] = statistics.median(wall)
    return out


def _spawn_demo(cols: int = 80, rows: int = 24) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", VMEXIT_TUI_HOME=tempfile.mkdtemp())
    proc = subprocess.Popen(
        [sys.executable, "-m", "vmexit_tui", "--demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    return proc, master


def _read_until(master: int, needles: list[bytes], start: float, timeout: float) -> dict:
    seen: dict[bytes, float] = {}
    buf = b""
    while len(seen) < len(needles) and time.perf_counter() - start < timeout:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                buf += os.read(master, 65536)
            except OSError:
                break
            for n in needles:
                if n not in seen and n in buf:
                    seen[n] = time.perf_counter() - start
    return seen


def _drain(master: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def _stop(proc: subprocess.Popen, master: int) -> None:
    try:
        if proc.poll() is None:
            os.write(master, b"q")
            end = time.perf_counter() + 10
            while proc.poll() is None and time.perf_counter() < end:
                _drain(master, 0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)


def _startup_bench(runs: int) -> dict[str, float]:
    frames, data = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc, master = _spawn_demo()
        try:
            seen = _read_until(master, [b"Quit", b"EPT_VIOLATION"], start, 15)
            frames.append(seen.get(b"Quit", float("nan")))
            data.append(seen.get(b"EPT_VIOLATION", float("nan")))
        finally:
            _stop(proc, master)
    return {
        "first full frame median s": statistics.median(frames),
        "first exit reasons on screen median s": statistics.median(data),
    }


def _cpu_bench(seconds: float) -> dict[str, float]:
    proc, master = _spawn_demo()
    try:
        _drain(master, 3.0)  # start-up and the first intervals are not steady state
        p = psutil.Process(proc.pid)
        c0, t0 = sum(p.cpu_times()[:2]), time.perf_counter()
        _drain(master, seconds)
        c1, t1 = sum(p.cpu_times()[:2]), time.perf_counter()
        alive = proc.poll() is None
    finally:
        _stop(proc, master)
    return {"cpu % of one core while streaming": 100 * (c1 - c0) / (t1 - t0), "alive": alive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--cpu-seconds", type=float, default=30.0)
    parser.add_argument("--startup-runs", type=int, default=5)
    args = parser.parse_args()
    print("1. one 70-reason interval applied (headless real app)")
    for size in ((80, 24), (160, 48)):
        for k, v in asyncio.run(_apply_bench(args.updates, size)).items():
            print(f"   {size[0]}x{size[1]} {k:32s} {v:8.2f}")
    print("   budget: apply median <= 20 ms")
    print("2. `vmexit-tui --demo` in a pty, 80x24, demo streaming at 1 s")
    for k, v in _cpu_bench(args.cpu_seconds).items():
        print(f"   {k:40s} {v:8.2f}" if isinstance(v, float) else f"   {k:40s} {v}")
    print("   budget: <= 2% of one core")
    print("3. `vmexit-tui --demo` start-up")
    for k, v in _startup_bench(args.startup_runs).items():
        print(f"   {k:40s} {v:8.3f}")
    print("   budget: first full frame <= 1 s")


if __name__ == "__main__":
    main()
