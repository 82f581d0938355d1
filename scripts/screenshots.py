"""Regenerate screenshots/ from the real app, driven by keys on the built-in demo.

    python scripts/screenshots.py            # writes screenshots/*.svg

The demo recorder runs on a virtual clock: the first ticks are released at once, then the
recording keeps "running" (it waits) so the status line shows a live recording. Data and
clock are seeded and frozen, so the pictures only change when the app does.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.app_sources import demo_sources
from vmexit_tui.recording.demo import VirtualClock

OUT = Path(__file__).resolve().parent.parent / "screenshots"
WALL_CLOCK = 1_780_000_000.0
TICKS = 40


class FirstTicksThenWait:
    """A recorder sleep that lets `n` ticks through at once, then waits forever."""

    def __init__(self, n: int) -> None:
        self.clock = VirtualClock()
        self.left = n

    async def sleep(self, seconds: float) -> None:
        if self.left <= 0:
            await asyncio.Event().wait()
        self.left -= 1
        await self.clock.sleep(seconds)


# (file name, terminal size, keys pressed after the recording has streamed TICKS intervals)
SHOTS: list[tuple[str, tuple[int, int], tuple[str, ...]]] = [
    ("live-table", (120, 36), ()),
    ("live-table-80x24", (80, 24), ()),
    ("live-sorted-by-mean", (120, 36), ("s", "s", "s", "s", "s", "t")),
    ("reason-detail", (120, 36), ("down", "down", "enter")),
    ("compare-bind-vs-raw", (120, 36), ("3",)),
    ("vm-list", (120, 36), ("1",)),
    ("help", (100, 36), ("question_mark",)),
    ("compare-80x24", (80, 24), ("3",)),
    ("live-table-200x50", (200, 50), ()),
    ("compare-200x50", (200, 50), ("3",)),
]


async def shoot(name: str, size: tuple[int, int], keys: tuple[str, ...], folder: Path) -> Path:
    gate = FirstTicksThenWait(TICKS)
    sources = demo_sources(
        folder, clock=lambda: WALL_CLOCK, recorder_clock=gate.clock, sleep=gate.sleep
    )
    app = VmExitApp(sources)
    async with app.run_test(size=size) as pilot:
        for _ in range(400):  # let the first ticks stream in
            if app.current is not None and app.current.acc.intervals >= TICKS:
                break
            await pilot.pause(0.02)
        else:
            raise RuntimeError("the demo recording did not stream")
        await pilot.pause(2.5)  # let throttled charts draw the latest data
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.3)
        await pilot.pause(0.5)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
        await pilot.press("q")
    return path


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, keys in SHOTS:
            path = await shoot(name, size, keys, Path(tmp))
            print(f"wrote {path.relative_to(OUT.parent)} ({size[0]}x{size[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
