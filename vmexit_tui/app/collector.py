"""The garbage collector's share of frame time.

Start-up builds most of the objects the app will ever hold (Textual's widgets and styles,
the CSS, every module); a full collection walks all of them, which took 80-100 ms in the
middle of a frame (bench/bench_app.py, 160x48). Once the first frame is up they are
collected once and frozen: later full collections walk only what came after. When the
app ends they are thawed, so a process that runs it again (tests) can free the old one.
"""

from __future__ import annotations

import gc


class FreezeAfterStart:
    """Mixed into the App: on Textual's `Ready` (the first frame is on screen), collect,
    then freeze what survived (`gc.freeze`); thaw on unmount."""

    def on_ready(self) -> None:
        gc.collect()
        gc.freeze()

    async def on_unmount(self) -> None:  # async, as CleanExit's: both run
        gc.unfreeze()
