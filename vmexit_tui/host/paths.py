"""Where vmexit-tui keeps what it records and saves: one home, created private (0700)."""

from __future__ import annotations

import os
import time
from pathlib import Path

HOME_ENV = "VMEXIT_TUI_HOME"


def home_folder() -> Path:
    """``$VMEXIT_TUI_HOME`` or ``~/.local/share/vmexit-tui`` (not created here)."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path.home() / ".local" / "share" / "vmexit-tui"


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) 0700; an existing folder is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def safe_name(text: str, fallback: str = "vm") -> str:
    """`text` made safe as part of a file name: anything but letters, digits, `-_.` becomes `_`."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or fallback


def recordings_folder() -> Path:
    """``<home>/recordings``, created 0700."""
    private_folder(home_folder())
    return private_folder(home_folder() / "recordings")


def new_recording_folder(vm_name: str, pid: int, *, now: float | None = None) -> Path:
    """A fresh, not yet created folder for one recording: ``<home>/recordings/NAME-PID-TIME``."""
    safe = safe_name(vm_name)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return recordings_folder() / f"{safe}-{pid}-{stamp}"
