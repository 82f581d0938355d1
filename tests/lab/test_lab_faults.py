"""Faults in the middle of a real recording in the lab: the VM killed, perf killed, SIGHUP.

Three tiny VMMs are recorded at once by three `vmexit-tui record` processes (one job, to pay
Python's start-up in L1 once); when each has a finished chunk, one fault each. Whatever ended
the recording, its folder must stay readable (manifest, report.txt, every chunk by perf) and
no perf may be left running.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.cli import perf_record_args
from tests.lab.driver import Lab
from tests.lab.perf_text import parse_stat_report

CASES = ("vmkill", "perfkill", "hup")
FAULTS_SCRIPT = """
set -u
for c in {cases}; do
    tiny_vmm -c 2 -d 3000 -r 50 > "$LAB_OUT/$c.vmm" & echo $! > "/tmp/$c.vmm.pid"
done
for c in {cases}; do until grep -q running "$LAB_OUT/$c.vmm"; do sleep 0.2; done; done
for c in {cases}; do
    rm -rf "/tmp/f-$c"
    vmexit-tui record --pid "$(cat /tmp/$c.vmm.pid)" --interval 2 --out "/tmp/f-$c" {args} \\
        > "$LAB_OUT/$c.out" 2> "$LAB_OUT/$c.err" &
    echo $! > "/tmp/$c.rec.pid"
done
for c in {cases}; do  # a finished chunk: the recording is really under way
    until ls /tmp/f-$c/perf.data.* > /dev/null 2>&1; do
        kill -0 "$(cat /tmp/$c.rec.pid)" 2> /dev/null || break
        sleep 0.5
    done
done
kill -9 "$(cat /tmp/vmkill.vmm.pid)"
pkill -9 -f -- "-o /tmp/f-perfkill/perf.data"
kill -HUP "$(cat /tmp/hup.rec.pid)"
for c in {cases}; do wait "$(cat /tmp/$c.rec.pid)"; echo $? > "$LAB_OUT/$c.rc"; done
pgrep -a -x perf > "$LAB_OUT/perf-left.txt"
kill "$(cat /tmp/perfkill.vmm.pid)" "$(cat /tmp/hup.vmm.pid)"; wait
for c in {cases}; do
    f=/tmp/f-$c; o=$LAB_OUT/$c; mkdir -p "$o"
    cp "$f/manifest.json" "$o/" 2> /dev/null
    cp "$f/report.txt" "$o/" 2> /dev/null
    stat -c '%a %n' "$f"/* > "$o/modes.txt"
    for ch in "$f"/perf.data.*; do
        perf kvm -i "$ch" stat report --event=vmexit > "$o/$(basename "$ch").report" 2>&1
    done
    vmexit-tui report "$f/report.txt" --json > "$o/report.json" 2> "$o/report.err"
done
"""


@dataclass
class Outcome:
    folder: Path
    rc: int
    stderr: str
    manifest: dict


@pytest.fixture(scope="module")
def faults(lab: Lab) -> dict[str, Outcome]:
    args = " ".join(shlex.quote(a) for a in perf_record_args())
    job = lab.run(FAULTS_SCRIPT.format(cases=" ".join(CASES), args=args), timeout=2400)
    assert job.rc == 0, f"{job.stdout}\n{job.stderr}"
    assert (job.files / "perf-left.txt").read_text() == "", "perf left running in L1"
    out = {}
    for case in CASES:
        folder = job.files / case
        err = (job.files / f"{case}.err").read_text()
        assert (folder / "manifest.json").exists(), f"{case}: no manifest.json\n{err}"
        out[case] = Outcome(
            folder,
            int((job.files / f"{case}.rc").read_text()),
            err,
            json.loads((folder / "manifest.json").read_text()),
        )
    return out


def _assert_readable(o: Outcome) -> None:
    chunks = [c["file"] for c in o.manifest["chunks"]]
    assert chunks, f"no finished chunk kept: {o.manifest}\n{o.stderr}"
    modes = {}  # file name -> permission bits, from `stat -c '%a %n'` in L1
    for line in (o.folder / "modes.txt").read_text().splitlines():
        bits, path = line.split(" ", 1)
        modes[Path(path).name] = int(bits, 8)
    for name in chunks:
        report = (o.folder / f"{name}.report").read_text()
        assert "Total Samples" in report, f"perf cannot read {name}: {report[-300:]}"
        assert modes[name] == 0o600, name
    rows, total = parse_stat_report((o.folder / "report.txt").read_text())
    assert total and {"cpuid", "io"} <= set(rows), (o.folder / "report.txt").read_text()
    assert sum(r.samples for r in rows.values()) == total
    as_json = json.loads((o.folder / "report.json").read_text())
    assert as_json, (o.folder / "report.err").read_text()


def test_the_vm_killed_mid_recording_leaves_a_readable_recording(faults) -> None:
    o = faults["vmkill"]
    assert o.manifest["end_reason"] == "vm-exited", o.manifest
    _assert_readable(o)


def test_perf_killed_mid_recording_leaves_a_readable_recording(faults) -> None:
    o = faults["perfkill"]
    assert o.manifest["end_reason"] == "perf-failed", o.manifest
    assert "SIGKILL" in o.manifest["end_detail"], o.manifest
    _assert_readable(o)


def test_sighup_of_record_stops_it_cleanly(faults) -> None:
    o = faults["hup"]
    assert o.rc == 0, o.stderr
    assert o.manifest["end_reason"] == "stopped", o.manifest
    _assert_readable(o)
