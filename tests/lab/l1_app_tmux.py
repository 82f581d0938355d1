"""Inside L1: the real app in tmux on a real L2 guest. Run by a lab job:

    python -m tests.lab.l1_app_tmux GUEST_NAME OUT_DIR [--hang-up] [--source MODE]

Opens `vmexit-tui`, selects the guest, presses space and `2` (the Live tab), waits until the
live table shows real SVM exit reasons, then until its counts grow, presses space
(stop) and `q`. With --hang-up it kills the tmux server instead (the app gets SIGHUP, as from
a dropped SSH session) and reads what the recording left. Every screen it waited for is saved
in OUT_DIR as NN-step.txt, and OUT_DIR/result.json says what happened (also when a step timed
out: then "failed" holds the step and the last screen is saved).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.e2e.test_record_tmux import vm_rows
from tests.tmux_term import TmuxTerm, still_running
from vmexit_tui.recording.perf_argv import report_argv

SVM_REASONS = ("msr", "hlt", "interrupt", "vintr", "npf", "io", "cpuid", "pause", "hypercall")
_ROW = re.compile(r"^\W*(" + "|".join(SVM_REASONS) + r")\s+(\d+)\s", re.MULTILINE)
_RATE = re.compile(r"([\d.,]+[kM]?)\s*exits/s")
_CHUNKS = re.compile(r"(\d+) chunks?")
STEP_TIMEOUT = 900.0  # TCG under load: python alone takes tens of seconds


def svm_rows(screen: str) -> list[str]:
    return [reason for reason, _ in _ROW.findall(screen)]


def samples(screen: str) -> int:
    """The sum of the live table's Samples column."""
    return sum(int(n) for _, n in _ROW.findall(screen))


def chunks(screen: str) -> int:
    m = _CHUNKS.search(screen)
    return int(m.group(1)) if m else 0


def rate_text(screen: str) -> str | None:
    m = _RATE.search(screen)
    return m.group(1) if m else None


def hang_up(term: TmuxTerm, out: Path, result: dict) -> None:
    """SIGHUP the app mid-recording; then what is still running and what the folder holds."""
    app = psutil.Process(term.pane_pid)
    perfs = [p for p in term.descendants() if p.name() == "perf"]
    result["perf_while_recording"] = [p.pid for p in perfs]
    term.hang_up()
    result["alive_after_hang_up"] = [p.pid for p in still_running([app, *perfs], timeout=120)]
    folders = sorted((out / "home" / "recordings").glob("*-*"))
    result["folders"] = [f.name for f in folders if f.is_dir()]
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        readable = []
        # the app reported every chunk as it went; the first and the last (being written at the
        # hang-up) are read again: a perf report takes about a minute in L1 under TCG
        chunks = manifest["chunks"]
        for chunk in chunks[:1] + chunks[-1:] if len(chunks) > 1 else chunks:
            done = subprocess.run(
                report_argv(folder / chunk["file"]), capture_output=True, text=True, timeout=600
            )
            readable.append(done.returncode == 0 and "Total Samples" in done.stderr)
        result["manifest"] = {
            "end_reason": manifest["end_reason"],
            "stopped": manifest["stopped"],
            "chunks": len(manifest["chunks"]),
            "chunks_readable_by_perf": readable,
        }


def main(name: str, out: Path, *, hang: bool = False, source: str | None = None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"steps": []}
    shots = 0

    def shot(step: str, screen: str) -> None:
        nonlocal shots
        shots += 1
        (out / f"{shots:02d}-{step}.txt").write_text(screen + "\n")
        result["steps"].append({"step": step, "at": round(time.monotonic() - t0, 1)})

    t0 = time.monotonic()
    env = {"VMEXIT_TUI_HOME": str(out / "home")}
    pidfile = Path(os.environ.get("LAB_GUESTS", "/nonexistent")) / f"{name}.pid"

    def wait(predicate) -> str:
        """`term.wait_for`, that gives up as soon as the L2 guest is gone (its QEMU removes its
        pidfile when it exits; seen: an L2 reset under nested SVM in TCG)."""
        check = (lambda s: predicate in s) if isinstance(predicate, str) else predicate
        screen = term.wait_for(lambda s: not pidfile.exists() or check(s), timeout=STEP_TIMEOUT)
        if not pidfile.exists():
            raise AssertionError(f"the L2 guest {name} is gone (its QEMU exited)")
        return screen

    argv = ["vmexit-tui", *(["--source", source] if source else [])]
    with TmuxTerm(argv, width=110, height=32, env=env) as term:
        step = "vm-list"
        try:
            screen = wait(lambda s: name in vm_rows(s))
            shot(step, screen)
            for _ in range(vm_rows(screen).index(name)):
                term.send("Down")
            step = "recording"
            term.send("space")
            shot(step, wait(f"recording {name}"))
            term.send("2")  # the Live tab
            step = "table-filled"
            screen = wait(lambda s: len(svm_rows(s)) >= 2 and rate_text(s) is not None)
            shot(step, screen)
            result["reasons"] = svm_rows(screen)
            first = result["first"] = {
                "rate": rate_text(screen),
                "samples": samples(screen),
                "chunks": chunks(screen),
            }
            step = "updated"  # later intervals: more samples in the table, a new rate
            screen = wait(lambda s: samples(s) > first["samples"] and rate_text(s) is not None)
            shot(step, screen)
            result["later"] = {
                "rate": rate_text(screen),
                "samples": samples(screen),
                "chunks": chunks(screen),
            }
            if hang:
                step = "hang-up"
                hang_up(term, out, result)
                raise _Done
            perfs = [p.pid for p in term.descendants() if p.name() == "perf"]
            result["perf_while_recording"] = perfs
            step = "stopped"
            term.send("space")
            shot(step, term.wait_for(f"stopped {name}", timeout=STEP_TIMEOUT))
            step = "quit"
            term.send("q")
            result["exit_status"] = term.wait_exit(timeout=STEP_TIMEOUT)
        except _Done:
            pass
        except AssertionError as e:
            result["failed"] = step
            result["error"] = str(e).splitlines()[0]
            shot(f"{step}-timeout", term.screen())
        left = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "perf"]
        result["perf_left"] = [p.pid for p in still_running(left, timeout=30)]
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if "failed" not in result else 1


class _Done(Exception):
    """The hang-up flow ends here."""


if __name__ == "__main__":
    rest = sys.argv[3:]
    mode = rest[rest.index("--source") + 1] if "--source" in rest else None
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), hang="--hang-up" in rest, source=mode))
