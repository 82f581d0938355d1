"""The job runner inside L1 (standard library only; started by l1-init.sh).

The host puts each job in the share as a folder `jobs/<id>/` (renamed into place when whole):
`script.sh` and `job.json` ({"timeout": s, "env": {...}, "cwd": path}). The runner runs the
script with bash in a session of its own, writes `stdout`, `stderr` and finally `rc` (renamed
into place: the host waits for it). A job past its timeout gets SIGTERM then SIGKILL for its
whole process group, and its output is kept; leftovers in the group are killed when it ends.
Processes that leave the group on purpose (`setsid`, qemu -daemonize) survive the job.
`.lab/stop` in the share makes the runner exit, and L1 power off. `.lab/heartbeat` is
rewritten every 5 s, so the host can tell a wedged L1 (e.g. a soft lockup) from a slow job.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_job(job: Path, base_env: dict[str, str]) -> None:
    spec = json.loads((job / "job.json").read_text())
    env = {**base_env, "LAB_OUT": str(job / "files"), **spec.get("env", {})}
    timeout = float(spec.get("timeout", 300))
    print(f"lab-runner: job {job.name} started (timeout {timeout:g} s)", flush=True)
    with open(job / "stdout", "wb") as out, open(job / "stderr", "wb") as err:
        proc = subprocess.Popen(
            ["bash", str(job / "script.sh")],
            cwd=spec.get("cwd") or "/",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        note = ""
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = 124
            note = f"lab: job killed after its timeout of {timeout:g} s\n"
        _kill_group(proc.pid, signal.SIGKILL)
        if note:
            err.write(note.encode())
    (job / "rc.tmp").write_text(f"{rc}\n{'timeout' if note else 'exited'}\n")
    os.rename(job / "rc.tmp", job / "rc")
    print(f"lab-runner: job {job.name} ended: {rc}", flush=True)


def _btime() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/stat").read_text().split("btime ")[1].split()[0])
    return None


def heartbeat(path: Path, every_s: float = 5.0) -> None:
    """Touch `path` every few seconds: the host sees a wedged L1 by its stale mtime. A step of
    L1's wall clock (the boot time in /proc/stat moves) is said on the console."""
    booted = _btime()
    while True:
        with contextlib.suppress(OSError):
            path.write_text(f"{time.time():.0f}\n")
        now = _btime()
        if now is not None and booted is not None and now != booted:
            print(f"lab-runner: L1's wall clock stepped by {now - booted:+d} s", flush=True)
            booted = now
        time.sleep(every_s)


def main(share: Path) -> None:
    lab = share / ".lab"
    threading.Thread(target=heartbeat, args=(lab / "heartbeat",), daemon=True).start()
    repo = (lab / "repo").read_text().strip()
    base_env = {
        "PATH": f"{repo}/.venv/bin:{share}/tools:{SYSTEM_PATH}",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "PAGER": "cat",
        "LAB_SHARE": str(share),
        "LAB_TOOLS": str(share / "tools"),
        "LAB_GUESTS": str(share / "guests"),
        "LAB_KERNEL": (lab / "vmlinuz").read_text().strip(),
        "LAB_REPO": repo,
        "VIRTUAL_ENV": f"{repo}/.venv",
    }
    jobs = share / "jobs"
    done: set[str] = set()
    print("lab-runner: waiting for jobs", flush=True)
    idle = 0.05  # polling backs off while idle: the share is a virtfs folder, no inotify
    while not (lab / "stop").exists():
        idle = min(idle * 1.5, 0.5)
        for name in sorted(os.listdir(jobs)):
            if name.startswith(".") or name in done:
                continue
            done.add(name)
            idle = 0.05
            if not (jobs / name / "rc").exists():
                try:
                    run_job(jobs / name, base_env)
                except Exception as e:  # a broken job must not stop the runner
                    (jobs / name / "rc").write_text(f"125\nrunner error: {e!r}\n")
        time.sleep(idle)
    print("lab-runner: stop requested", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
