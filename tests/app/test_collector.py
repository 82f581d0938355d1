"""FreezeAfterStart: once start-up has settled, what it built is frozen, so full collections
in the middle of later frames walk only what came after; thawed when the app ends."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tests.app.helpers import Gate, make_app
from vmexit_tui.app import collector


async def test_start_up_objects_are_frozen_once_start_up_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(collector, "SETTLE_S", 0.3)
    gc.unfreeze()
    app = make_app(tmp_path, Gate())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.get_freeze_count() == 0  # not at the first frame: it would delay it
            await pilot.pause(0.5)
            assert gc.get_freeze_count() > 10_000  # widgets, styles, modules of the app
        assert gc.get_freeze_count() == 0  # thawed when the app ended: it can be freed
    finally:
        gc.unfreeze()
