"""How to call this checkout's vmexit-tui from lab jobs."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

VMEXIT_TUI = Path(sys.executable).parent / "vmexit-tui"


@functools.cache
def perf_record_args() -> list[str]:
    """`record` options that make it use `perf kvm stat record` (chunks on disk), which the
    lab's tests compare with perf itself: `--source perf` once `record` has sources."""
    done = subprocess.run(
        [str(VMEXIT_TUI), "record", "--help"], capture_output=True, text=True, timeout=120
    )
    return ["--source", "perf"] if "--source" in done.stdout else []
