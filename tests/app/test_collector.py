"""FreezeAfterStart: once the first frame is up, what start-up built is frozen, so full
collections in the middle of later frames walk only what came after; thawed at the end."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.app.helpers import Gate, make_app


async def test_start_up_objects_are_frozen_once_the_first_frame_is_up(tmp_path: Path):
    gc.unfreeze()
    app = make_app(tmp_path, Gate())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the widgets, styles and modules of a started app
        assert gc.get_freeze_count() == 0  # thawed when the app ended: it can be freed
    finally:
        gc.unfreeze()
