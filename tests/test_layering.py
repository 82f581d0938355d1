"""Data flows one way: nothing outside vmexit_tui.app imports Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import vmexit_tui


def core_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(vmexit_tui.__path__, "vmexit_tui.")
        if not m.name.startswith("vmexit_tui.app") and m.name != "vmexit_tui.__main__"
    )


def test_core_modules_import_no_textual():
    mods = core_modules()
    assert "vmexit_tui.analysis.model" in mods and "vmexit_tui.formats.perf_parser" in mods
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "tops = ('textual', 'textual_plotext')\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in tops)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core modules pulled in Textual: {out.stdout}"
