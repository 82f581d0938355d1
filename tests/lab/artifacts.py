"""Where lab tests leave what a person may want to look at afterwards (screens, figures).

`$VMEXIT_TUI_LAB_ARTIFACTS` (default `build/lab-artifacts` in the repo), one folder per test
or module, emptied when that test runs again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from tests.lab.driver import REPO


def artifacts_dir(name: str) -> Path:
    """A fresh, empty folder for the artifacts of `name` (a test or module name)."""
    root = Path(os.environ.get("VMEXIT_TUI_LAB_ARTIFACTS") or REPO / "build" / "lab-artifacts")
    folder = root / re.sub(r"[^\w.-]+", "_", name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def save_json(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
