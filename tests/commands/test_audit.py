"""`vmexit-tui audit`: JSON keys and values, the table, a saved tree via --root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vmexit_tui.cli import main


def test_json_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert all(set(c) == {"name", "value", "usual_for_rt", "why", "source"} for c in checks)
    by_name = {c["name"]: c for c in checks}
    ksm = Path("/sys/kernel/mm/ksm/run")
    if ksm.exists():
        assert by_name["mm.ksm"]["value"].split()[0] == ksm.read_text().strip()


def test_table_from_a_saved_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cmdline").write_text("ro isolcpus=2-3 nohz_full=2-3\n")
    assert main(["audit", "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["CHECK", "VALUE", "USUAL"]
    row = next(line for line in lines if line.startswith("cmdline.isolcpus"))
    assert row.split()[1] == "2-3"
    assert next(line for line in lines if line.startswith("mm.ksm")).split()[1] == "unknown"
