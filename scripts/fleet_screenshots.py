"""Regenerate the fleet view's screenshots/ from the real app on the snapshot tests' frozen fleet.

    python scripts/fleet_screenshots.py      # writes screenshots/fleet*.svg

Three hosts (one never answers) whose exporters' /metrics are made by the real collector from
fixed counts, polled twice with a frozen clock: the pictures only change when the app does.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.test_fleet_snapshots import after_polls, frozen_app  # noqa: E402

OUT = ROOT / "screenshots"
SHOTS = [("fleet", (120, 20), ()), ("fleet-guest-reasons", (120, 20), ("enter",))]


async def shoot(name: str, size: tuple[int, int], keys: tuple[str, ...]) -> Path:
    app = frozen_app()
    async with app.run_test(size=size) as pilot:
        await after_polls(*keys)(pilot)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
        await pilot.press("q")
    return path


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, size, keys in SHOTS:
        path = await shoot(name, size, keys)
        print(f"wrote {path.relative_to(ROOT)} ({size[0]}x{size[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
