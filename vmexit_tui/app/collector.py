"""The garbage collector's share of frame time.

Start-up builds most of the objects the app will ever hold (Textual's widgets and styles,
the CSS, every module); a full collection walks all of them, which took 80-100 ms in the
middle of a frame (bench/bench_app.py, 160x48). Once start-up has settled (a second after
the first frame: collecting right at it delayed the footer by 60 ms) they are collected
once and frozen: later full collections walk only what came after. When the app ends they
are thawed, so a process that runs it again (tests) can free the old one.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from textual.app import App

SETTLE_S = 1.0  # after the first frame: the footer, the first scan and the first data are in

if TYPE_CHECKING:
    _Base = App[None]
else:  # a mixin of the App
    _Base = object


class FreezeAfterStart(_Base):
    """Mixed into the App: `SETTLE_S` after Textual's `Ready` (the first frame is on
    screen), collect, then freeze what survived (`gc.freeze`); thaw on unmount."""

    def on_ready(self) -> None:
        self.set_timer(SETTLE_S, freeze_start_up)

    async def on_unmount(self) -> None:  # async, as CleanExit's: both run
        gc.unfreeze()


def freeze_start_up() -> None:
    gc.collect()
    gc.freeze()
