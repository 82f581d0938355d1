"""Frame budget of the app at 160x48; prints figures, asserts nothing.

1. update: one 70-reason interval posted to the real app (headless, live tab shown): the
   CPU time of the process from the message to the repainted screen (`pilot.pause()`
   returns when the app is idle), less what waiting for idle costs without an update.
   CPU time, not wall time: other load on a shared machine barely moves it. Reasons
   reorder every interval, so every update re-sorts. Goal: p95 <= 8 ms.
2. cpu: `vmexit-tui --demo` (the real entry point, in a pseudo-terminal of 160x48) while
   its simulated recording streams at 1 s intervals. Goal: <= 1% of one core.
3. first frame: launch of `vmexit-tui --demo` to its footer on screen. Goal: <= 0.5 s.

Both checkouts are measured as installed: their bytecode is compiled first, as pip does.
`--before DIR` measures the code in DIR the same way in the same run (DIR is a checkout,
e.g. `git worktree add /tmp/before main`, run with this venv), and prints both side by
side. Each figure is the median over `--repeats` runs: the machine may be shared.
The last line is always `update_ms_p50=… update_ms_p95=… cpu_pct=… first_frame_s=…`
for this checkout.

Run: python bench/bench_app.py [--before DIR] [--repeats 3] [--updates 200] [--cpu-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import fcntl
import json
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

ROOT = Path(__file__).resolve().parent.parent
SIZE = (160, 48)


# ---- 1. update (runs inside the code under test) --------------------------------------
async def _update_bench(updates: int) -> list[float]:
    from tests.app.helpers import Gate, feed, make_app, wide_interval
    from vmexit_tui.app.messages import IntervalReceived

    gate = Gate()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), gate)
        async with app.run_test(size=SIZE) as pilot:
            await feed(pilot, app, gate, 1)
            app.action_show_tab("live")
            for i in range(10):  # warm up: caches, column widths
                app.post_message(IntervalReceived(wide_interval(i, 70)))
                await pilot.pause()
            idle = []  # what waiting for idle costs by itself, without an update
            for _ in range(20):
                c0 = time.process_time()
                await pilot.pause()
                idle.append((time.process_time() - c0) * 1000)
            baseline = statistics.median(idle)
            times = []
            for i in range(updates):
                target = app.current.acc.intervals + 1
                c0 = time.process_time()
                app.post_message(IntervalReceived(wide_interval(10 + i, 70)))
                while app.current.acc.intervals < target:
                    await asyncio.sleep(0)
                await pilot.pause()  # the screen is repainted before the app is idle
                times.append(max((time.process_time() - c0) * 1000 - baseline, 0.0))
            await pilot.press("q")
    return times


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


# ---- 2. and 3. the real console entry in a pty -----------------------------------------
def _spawn_demo(code: Path) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = dict(
        os.environ,
        TERM="xterm-256color",
        VMEXIT_TUI_HOME=tempfile.mkdtemp(),
        PYTHONPATH=str(code),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "vmexit_tui", "--demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=code,
        start_new_session=True,
    )
    os.close(slave)
    return proc, master


def _read_until(master: int, needle: bytes, start: float, timeout: float) -> float:
    buf = b""
    while time.perf_counter() - start < timeout:
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            try:
                buf += os.read(master, 65536)
            except OSError:
                break
            if needle in buf:
                return time.perf_counter() - start
    return float("nan")


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


def _first_frame(code: Path) -> float:
    start = time.perf_counter()
    proc, master = _spawn_demo(code)
    try:
        return _read_until(master, b"Quit", start, 15)
    finally:
        _stop(proc, master)


def _cpu(code: Path, seconds: float) -> float:
    import psutil

    proc, master = _spawn_demo(code)
    try:
        _drain(master, 4.0)  # start-up and the first intervals are not steady state
        p = psutil.Process(proc.pid)
        c0, t0 = sum(p.cpu_times()[:2]), time.perf_counter()
        _drain(master, seconds)
        c1, t1 = sum(p.cpu_times()[:2]), time.perf_counter()
    finally:
        _stop(proc, master)
    return 100 * (c1 - c0) / (t1 - t0)


# ---- one round of measurements of one checkout ----------------------------------------
def measure(code: Path, args: argparse.Namespace) -> dict[str, float]:
    """update figures in a child process running `code`, then cpu and first frame."""
    out = subprocess.run(
        [sys.executable, __file__, "--updates-only", str(args.updates)],
        env=dict(os.environ, PYTHONPATH=str(code)),
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    times = json.loads(out.strip().splitlines()[-1])
    return {
        "update_ms_p50": statistics.median(times),
        "update_ms_p95": _percentile(times, 0.95),
        "cpu_pct": _cpu(code, args.cpu_seconds),
        "first_frame_s": _first_frame(code),
    }


def _medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout to measure side by side")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--cpu-seconds", type=float, default=20.0)
    parser.add_argument("--updates-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.updates_only is not None:  # the child: the code under test is on PYTHONPATH
        sys.path.insert(0, os.getcwd())
        print(json.dumps(asyncio.run(_update_bench(args.updates_only))))
        return
    codes = {"after": ROOT} if args.before is None else {"before": args.before, "after": ROOT}
    for code in codes.values():  # as installed: pip compiles the bytecode (a source tree run
        # with PYTHONDONTWRITEBYTECODE would compile every module at each start instead)
        compileall.compile_dir(code / "vmexit_tui", quiet=1)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in codes}
    for r in range(args.repeats):  # interleaved: both see the same load on a shared machine
        for name, code in codes.items():
            figures = measure(code, args)
            rounds[name].append(figures)
            shown = " ".join(f"{k}={v:.2f}" for k, v in figures.items())
            print(f"round {r + 1} {name:6s} {shown}", flush=True)
    result = {name: _medians(rs) for name, rs in rounds.items()}
    print(f"medians of {args.repeats} rounds at {SIZE[0]}x{SIZE[1]}:")
    print(f"   {'':16s}" + "".join(f"{name:>10s}" for name in result) + "      goal")
    goals = {
        "update_ms_p50": "",
        "update_ms_p95": "<= 8",
        "cpu_pct": "<= 1",
        "first_frame_s": "<= 0.5",
    }
    for key, goal in goals.items():
        print(
            f"   {key:16s}" + "".join(f"{r[key]:10.2f}" for r in result.values()) + f"  {goal:>8s}"
        )
    after = result["after"]
    print(" ".join(f"{k}={after[k]:.2f}" for k in goals))


if __name__ == "__main__":
    main()
