"""One private home for recordings and snapshots."""

from __future__ import annotations

import os

from vmexit_tui.formats import snapshots
from vmexit_tui.host import paths


def mode(p) -> int:
    return p.stat().st_mode & 0o777


def test_recordings_and_snapshots_share_the_home_and_are_private(tmp_path, monkeypatch):
    home = tmp_path / "h"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    old = os.umask(0)
    try:
        rec = paths.new_recording_folder("guest/1 x", 4242, now=0)
        snaps = snapshots.default_folder()
    finally:
        os.umask(old)
    assert rec.parent == home / "recordings" and snaps == home / "snapshots"
    assert rec.name.startswith("guest_1_x-4242-") and not rec.exists()
    assert mode(home) == mode(home / "recordings") == mode(snaps) == 0o700


def test_an_existing_home_keeps_its_mode(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.setenv(paths.HOME_ENV, str(shared))
    paths.recordings_folder()
    assert mode(shared) == 0o755 and mode(shared / "recordings") == 0o700
