"""End-to-end tests run the installed `vmexit-tui` console script in a real terminal (tmux)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.tmux_term import TMUX


def console_script() -> str:
    """The installed `vmexit-tui` beside this interpreter (a venv), else on PATH."""
    beside = Path(sys.executable).parent / "vmexit-tui"
    if beside.exists():
        return str(beside)
    found = shutil.which("vmexit-tui")
    if found is None:
        pytest.fail("the vmexit-tui console script is not installed (pip install -e .)")
    return found


@pytest.fixture
def vmexit_tui() -> str:
    if TMUX is None:
        pytest.fail("tmux is not installed: the end-to-end tests need it (apt-get install tmux)")
    return console_script()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private VMEXIT_TUI_HOME: snapshots and recordings of the test land here."""
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    return path
