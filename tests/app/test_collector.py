"""FreezeAfterStart: once start-up has settled, what it built is frozen, so full collections
in the middle of later frames walk only what came after; thawed when the app ends."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest

from tests.app.helpers import Gate, make_app, wait_for
from vmexit_tui.app import collector


async def test_start_up_objects_are_frozen_once_start_up_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(collector, "SETTLE_S", 0.3)
    ready: list[float] = []
    frozen: list[tuple[float, int]] = []
    on_ready, freeze = collector.FreezeAfterStart.on_ready, collector.freeze_start_up

    def ready_now(self) -> None:
        ready.append(time.monotonic())
        on_ready(self)

    def freeze_now() -> None:
        freeze()
        frozen.append((time.monotonic(), gc.get_freeze_count()))

    monkeypatch.setattr(collector.FreezeAfterStart, "on_ready", ready_now)
    monkeypatch.setattr(collector, "freeze_start_up", freeze_now)
    gc.unfreeze()
    app = make_app(tmp_path, Gate())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: bool(frozen), timeout=10)
            (at, count), (first_frame,) = frozen[0], ready
            assert at - first_frame >= 0.29  # not at the first frame: it would delay it
            assert count > 10_000  # widgets, styles, modules of the app
        assert gc.get_freeze_count() == 0  # thawed when the app ended: it can be freed
    finally:
        gc.unfreeze()
