"""The lab: a Debian kernel booted under QEMU TCG with SVM ("L1"), whose own kvm_amd sees every
exit of the guests it runs, with this machine's userland shared into it. One boot serves many jobs.

    from tests.lab.driver import Lab, LabUnavailable, LabBootError
    with Lab.boot() as lab:                         # raises LabUnavailable / LabBootError
        job = lab.run("lab_vmm -d 1 > $LAB_OUT/vmm.txt")
        job.rc, job.stdout, job.stderr, (job.files / "vmm.txt").read_text()

Inside L1 a job is a bash script run as root with cwd = the repo (same path as on the host,
writable through a tmpfs overlay), the repo's .venv/bin first on PATH, `$LAB_TOOLS/lab.sh`
sourced (tiny VMM and L2 guest helpers: tests/lab/README.md), /dev/kvm from kvm_amd and tracefs
at /sys/kernel/tracing. `$LAB_OUT` is a folder shared with the host (`LabJob.files`).

No pytest here: scripts/kvm-lab uses this module too.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.lab.cpio import CpioWriter
from tests.lab.emulator import LabQemu, lab_qemu
from tests.lab.errors import LabBootError, LabCrashed, LabGaveUp, LabUnavailable
from tests.lab.kernel import LabKernel, ensure_kernel

__all__ = ["Lab", "LabBootError", "LabCrashed", "LabGaveUp", "LabJob", "LabUnavailable"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BUSYBOX = Path("/bin/busybox")
L1_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]
_VIRTFS = "security_model=passthrough,multidevs=remap"
RELAUNCH_TIMEOUT_S = 240.0  # a fresh L1 after a crash (a first boot takes 10-40 s)
STALL_S = 180.0  # no heartbeat (every 5 s) from L1 for this long: it is wedged, not slow
# L1's kernel reports a CPU that stopped taking timer interrupts or scheduling (seen under TCG:
# "rcu_preempt kthread timer wakeup didn't happen ... Possible timer handling issue on cpu=0",
# repeated every minute while the job hangs; the runner's heartbeat goes on from the other CPU).
# Two such reports during one job (about 85 s of it) mean L1 is wedged, not slow.
WEDGE_MARKS = (b"rcu: INFO: rcu_preempt detected stalls", b"self-detected stall", b"soft lockup -")
WEDGE_REPORTS = 2
JOB_ATTEMPTS = 3  # a job is done at most this often when L1 crashes under it
_PREAMBLE = 'source "$LAB_TOOLS/lab.sh"\n'


@dataclass
class LabJob:
    """What a job left: its output, exit status (124 when killed at its timeout) and files."""

    stdout: str
    stderr: str
    rc: int
    files: Path
    timed_out: bool = False


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no L1 outlives the process that booted it


def _static_busybox() -> Path:
    if not BUSYBOX.exists():
        raise LabUnavailable(f"{BUSYBOX} is missing (apt-get install busybox-static)")
    out = subprocess.run(["ldd", str(BUSYBOX)], capture_output=True, text=True)
    if "not a dynamic executable" not in out.stdout + out.stderr and "statically" not in out.stdout:
        raise LabUnavailable(f"{BUSYBOX} is dynamically linked (apt-get install busybox-static)")
    return BUSYBOX


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_bytes().decode(errors="replace").replace("\r", "")
    except OSError:
        return "(no console log)"
    return "\n".join(text.splitlines()[-lines:]) or "(console log empty)"


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def build_l1_initrd(kernel: LabKernel, out: Path) -> Path:
    """busybox, the modules to mount virtfs and overlay, and l1_initramfs_init.sh as /init."""
    modules = kernel.module_paths(L1_MODULES)
    with open(out, "wb") as f:
        w = CpioWriter(f)
        for d in ("bin", "dev", "proc", "sys", "modules"):
            w.directory(d)
        w.char_device("dev/console", 5, 1)
        w.copy("bin/busybox", _static_busybox(), 0o755)
        w.file("init", (HERE / "l1_initramfs_init.sh").read_bytes(), 0o755)
        for m in modules:
            w.copy(f"modules/{m.name}", m, 0o644)
        w.file("modules.order", "".join(f"{m.name}\n" for m in modules).encode())
        w.close()
    return out


def _ldd_files(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    files = []
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts else ""
        if path.startswith("/"):
            files.append(Path(path))
    return files


def build_l2_initrd(out: Path) -> Path:
    """The base initramfs of L2 guests: busybox, cyclictest with its libraries, l2_init.sh."""
    with open(out, "wb") as f:
        w = CpioWriter(f)
        for d in ("bin", "dev", "proc", "sys", "tmp", "usr/bin"):
            w.directory(d)
        w.char_device("dev/console", 5, 1)
        w.copy("bin/busybox", _static_busybox(), 0o755)
        w.file("init", (HERE / "l2_init.sh").read_bytes(), 0o755)
        cyclictest = shutil.which("cyclictest")
        if cyclictest:
            w.copy("usr/bin/cyclictest", Path(cyclictest), 0o755)
            for lib in _ldd_files(Path(cyclictest)):
                w.copy(str(lib), lib.resolve(), 0o755)
        w.close()
    return out


def build_tools(tools: Path) -> None:
    """The tiny VMM (gcc), lab.sh and the L2 base initramfs, into the share's tools/."""
    tools.mkdir(parents=True, exist_ok=True)
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise LabUnavailable("no C compiler (apt-get install gcc): needed for the tiny VMM")
    out = subprocess.run(
        [gcc, "-O2", "-Wall", "-pthread", "-o", str(tools / "tiny_vmm"), str(HERE / "tiny_vmm.c")],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise LabUnavailable(f"tests/lab/tiny_vmm.c does not build: {out.stderr.strip()}")
    shutil.copy(HERE / "lab.sh", tools / "lab.sh")
    build_l2_initrd(tools / "l2-base.cpio")


@dataclass(frozen=True)
class _BootSettings:
    qemu: LabQemu
    boot_timeout: float
    memory_mb: int
    cpus: int
    cpu_model: str
    interactive: bool
    term_size: os.terminal_size | None


class Lab:
    """One running L1. Use `Lab.boot()`; `run()` jobs; `close()` (or a with block) ends it.

    With `restart_on_crash`, a job that finds L1 dead (it crashed or wedged during an earlier
    job: `LabCrashed`) boots a fresh L1 first; `crashes` counts them. The fresh L1 has no L2
    guests: whoever started some must start them again.

    A budget bounds a session that goes wrong: past `deadline` (host monotonic seconds), after
    `max_crashes` crashes, or once a fresh L1 did not come up, `run()` raises `LabGaveUp` at
    once instead of booting and waiting again; no job is given more time than is left.
    """

    def __init__(
        self, workdir: Path, kernel: LabKernel, owned: bool, settings: _BootSettings
    ) -> None:
        self.workdir = workdir
        self.share = workdir / "share"
        self.console_log = workdir / "console.log"
        self.kernel = kernel
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None
        self.boot_seconds = 0.0
        self.l1_uptime = 0.0
        self.restart_on_crash = False
        self.crashes = 0
        self.deadline: float | None = None
        self.max_crashes: int | None = None
        self.gave_up = ""
        self._owned = owned
        self._next_job = 0
        self._closed = False
        self._last_beat = b""
        self._last_beat_at = time.monotonic()
        atexit.register(self.close)

    @classmethod
    def boot(
        cls,
        *,
        workdir: Path | None = None,
        cache: Path | None = None,
        boot_timeout: float = 600.0,
        memory_mb: int = 3072,
        cpus: int = 2,
        cpu_model: str = "qemu64,+svm,+npt",
        qemu: str | None = None,
        interactive: bool = False,
        term_size: os.terminal_size | None = None,
        restart_on_crash: bool = False,
    ) -> Lab:
        """Fetch the kernel if needed, build the initramfs and tools, boot L1 and wait for it.

        `interactive` puts L1's console (a root shell) on this terminal instead of a log file,
        sized `term_size`; jobs still work meanwhile.
        """
        emulator = lab_qemu(qemu)  # tests/lab/emulator.py: why not always the host's QEMU
        kernel = ensure_kernel(cache)
        if not kernel.vmlinuz.exists():
            raise LabUnavailable(f"the cached kernel has no {kernel.vmlinuz}: remove {kernel.root}")
        owned = workdir is None
        workdir = Path(tempfile.mkdtemp(prefix="vmexit-lab-")) if workdir is None else workdir
        settings = _BootSettings(
            emulator, boot_timeout, memory_mb, cpus, cpu_model, interactive, term_size
        )
        lab = cls(workdir, kernel, owned, settings)
        lab.restart_on_crash = restart_on_crash
        try:
            lab._launch()
        except BaseException:
            lab.close()
            raise
        return lab

    def _launch(self, boot_timeout: float | None = None) -> None:
        """Prepare the share, start qemu and (unless interactive) wait until L1 is ready."""
        st, share, kernel = self.settings, self.share, self.kernel
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        lab_dir = share / ".lab"
        for stale in ("ready", "heartbeat", "stop"):
            (lab_dir / stale).unlink(missing_ok=True)
        self._last_beat, self._last_beat_at = b"", time.monotonic()
        shutil.rmtree(share / "guests", ignore_errors=True)  # an earlier L1's guests are gone
        for d in (lab_dir, share / "jobs", share / "guests"):
            d.mkdir(parents=True, exist_ok=True)
        build_tools(share / "tools")
        initrd = build_l1_initrd(kernel, self.workdir / "l1-initrd.cpio")
        shutil.copy(HERE / "l1_init.sh", lab_dir / "l1-init.sh")
        shutil.copy(HERE / "l1_runner.py", lab_dir / "runner.py")
        (lab_dir / "repo").write_text(f"{REPO}\n")
        (lab_dir / "modules").write_text(f"{kernel.slim_modules}\n")
        (lab_dir / "vmlinuz").write_text(f"{kernel.vmlinuz}\n")
        append = f"console=ttyS0 loglevel=5 panic=-1 mitigations=off labshare={share}"
        if st.interactive:
            append += f" labmode=shell labterm={os.environ.get('TERM', 'vt100')}"
            if st.term_size is not None:
                append += f" labcols={st.term_size.columns} labrows={st.term_size.lines}"
        argv = [
            *st.qemu.argv(), "-accel", "tcg,thread=multi", "-cpu", st.cpu_model,
            "-m", str(st.memory_mb), "-smp", str(st.cpus),
            "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", "mon:stdio" if st.interactive else f"file:{self.console_log}",
            *([] if st.interactive else ["-monitor", "none"]),
            "-kernel", str(kernel.vmlinuz), "-initrd", str(initrd),
            "-append", append,
            "-virtfs", f"local,path=/,mount_tag=hostroot,{_VIRTFS},readonly=on",
            "-virtfs", f"local,path={share},mount_tag=labshare,{_VIRTFS}",
        ]  # fmt: skip
        started = time.monotonic()
        with open(self.workdir / "qemu.stderr", "wb") as stderr:
            self.proc = subprocess.Popen(
                argv,
                stdin=None if st.interactive else subprocess.DEVNULL,
                stdout=None if st.interactive else subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=_die_with_parent,
            )
        if not st.interactive:
            self._wait_ready(started, boot_timeout or st.boot_timeout)

    def _relaunch(self) -> None:
        """A fresh L1 in the same folders after a crash: unfinished jobs are marked crashed.

        A fresh L1 that does not come up ends the session's lab work (`gave_up`): booting
        again and again would only spend the CI's time.
        """
        self.crashes += 1
        self._kill_qemu()
        for job in (self.share / "jobs").iterdir():
            if job.is_dir() and not job.name.startswith(".") and not (job / "rc").exists():
                (job / "rc").write_text("137\ncrashed\n")
        self.console_log.rename(self.workdir / f"console.crash{self.crashes}.log")
        self._check_budget(0)  # no fresh L1 past the crash budget
        try:
            self._launch(RELAUNCH_TIMEOUT_S)
        except LabBootError as e:
            self.gave_up = f"a fresh L1 did not come up after crash {self.crashes}: {e}"
            self._kill_qemu()
            raise LabGaveUp(f"the lab gave up: {self.gave_up}") from e

    def _kill_qemu(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _heartbeat_age(self) -> float:
        """Seconds since L1's runner last changed its heartbeat (0 before the first one).

        Judged by the host's own monotonic clock when the file's content changes, never by the
        file's mtime: that may come from L1's clock, which under TCG can be far off the host's.
        """
        try:
            beat = (self.share / ".lab" / "heartbeat").read_bytes()
        except OSError:
            return 0.0
        now = time.monotonic()
        if beat != self._last_beat:
            self._last_beat, self._last_beat_at = beat, now
        return now - self._last_beat_at

    def _console_size(self) -> int:
        try:
            return self.console_log.stat().st_size
        except OSError:
            return 0

    def _wedge_reports(self, since: int) -> int:
        """How many stall or lockup reports L1's console has after byte `since`."""
        try:
            with open(self.console_log, "rb") as f:
                f.seek(since)
                text = f.read()
        except OSError:
            return 0
        return sum(text.count(mark) for mark in WEDGE_MARKS)

    def _qemu_error(self) -> str:
        with contextlib.suppress(OSError):
            lines = (self.workdir / "qemu.stderr").read_text(errors="replace").strip().splitlines()
            return "; ".join(ln for ln in lines if "nrip-save" not in ln)[-2000:]
        return ""

    def console_tail(self, lines: int = 40) -> str:
        return _tail(self.console_log, lines)

    def _tail_note(self) -> str:
        return f"\n--- console tail ({self.console_log}) ---\n{self.console_tail()}"

    def _wait_ready(self, started: float, timeout: float) -> None:
        ready = self.share / ".lab" / "ready"
        deadline = started + timeout
        assert self.proc is not None
        while not ready.exists():
            if self.proc.poll() is not None:
                raise LabBootError(
                    f"L1 (qemu) exited with status {self.proc.returncode} before it came up: "
                    f"{self._qemu_error()}{self._tail_note()}"
                )
            if time.monotonic() > deadline:
                raise LabBootError(f"L1 did not come up within {timeout:g} s{self._tail_note()}")
            time.sleep(0.2)
        self.boot_seconds = time.monotonic() - started
        info = ready.read_text().splitlines()
        errors = [ln.removeprefix("error ") for ln in info if ln.startswith("error ")]
        for ln in info:
            if ln.startswith("uptime "):
                self.l1_uptime = float(ln.split()[1])
        if errors:
            raise LabBootError(
                f"L1 came up but is not usable: {'; '.join(errors)}{self._tail_note()}"
            )

    def run(
        self,
        script: str,
        timeout: float = 300,
        env: dict[str, str] | None = None,
        *,
        prepare: Callable[[], object] | None = None,
        retry: bool | None = None,
    ) -> LabJob:
        """Run a bash script as root inside L1 and return what it left (see the module doc).

        If L1 crashes during the job and the lab restarts on crashes (`retry`, by default
        `restart_on_crash`), the job is done again on a fresh L1, after `prepare` (to start
        again what it needs, e.g. L2 guests), up to JOB_ATTEMPTS times in all; then the last
        `LabCrashed` is raised. The budget (`LabGaveUp`) ends the attempts sooner.
        """
        attempts = JOB_ATTEMPTS if (self.restart_on_crash if retry is None else retry) else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._run_once(script, timeout, env)
            except LabCrashed as crash:
                if attempt == attempts:
                    raise
                print(
                    f"lab: attempt {attempt + 1} after a crash of L1: {str(crash).splitlines()[0]}"
                )
                if prepare is not None:
                    prepare()
        raise AssertionError("unreachable")

    def _check_budget(self, timeout: float) -> float:
        """The job's timeout within what is left of the budget; `LabGaveUp` if it is spent."""
        if not self.gave_up and self.max_crashes is not None and self.crashes > self.max_crashes:
            self.gave_up = f"L1 crashed {self.crashes} times (at most {self.max_crashes} allowed)"
        if not self.gave_up and self.deadline is not None and time.monotonic() > self.deadline:
            self.gave_up = "the session's lab time budget is spent"
        if self.gave_up:
            raise LabGaveUp(f"the lab gave up: {self.gave_up}; no more jobs run")
        if self.deadline is None:
            return timeout
        return max(1.0, min(timeout, self.deadline - time.monotonic()))

    def _run_once(self, script: str, timeout: float, env: dict[str, str] | None) -> LabJob:
        timeout = self._check_budget(timeout)
        if not self._closed and not self._alive() and self.restart_on_crash:
            self._relaunch()
            timeout = self._check_budget(timeout)
        if self._closed or not self._alive():
            status = self.proc.poll() if self.proc is not None else None
            raise LabBootError(
                f"L1 is not running (qemu status {status}): {self._qemu_error()}{self._tail_note()}"
            )
        assert self.proc is not None
        self._next_job += 1
        name = f"{self._next_job:04d}"
        jobs = self.share / "jobs"
        tmp = jobs / f".{name}"
        (tmp / "files").mkdir(parents=True)
        (tmp / "script.sh").write_text(_PREAMBLE + script)
        spec = {"timeout": timeout, "env": env or {}, "cwd": str(REPO)}
        (tmp / "job.json").write_text(json.dumps(spec))
        job = jobs / name
        console_at = self._console_size()
        tmp.rename(job)
        # the runner kills the job at `timeout`; the slack is for a slow (TCG, loaded) L1
        deadline = time.monotonic() + timeout + 120
        rc_file = job / "rc"
        next_look = time.monotonic() + 5
        while not rc_file.exists():
            if self.proc.poll() is not None:
                how = (
                    "it reset itself (with -no-reboot: a triple fault or a reboot)"
                    if self.proc.returncode == 0
                    else f"qemu status {self.proc.returncode}"
                )
                raise LabCrashed(
                    f"L1 died during job {name}: {how} {self._qemu_error()}{self._tail_note()}"
                )
            if (stalled := self._heartbeat_age()) > STALL_S:
                self._kill_qemu()
                raise LabCrashed(
                    f"L1 stopped responding during job {name}: no heartbeat for {stalled:.0f} s "
                    f"(a soft lockup in L1 looks like this; L1 was stopped){self._tail_note()}"
                )
            if time.monotonic() > next_look:
                next_look = time.monotonic() + 5
                if (reports := self._wedge_reports(console_at)) >= WEDGE_REPORTS:
                    self._kill_qemu()
                    raise LabCrashed(
                        f"L1 wedged during job {name}: its kernel reported {reports} stalls or "
                        f"lockups (a CPU without timer interrupts looks like this; L1 was "
                        f"stopped){self._tail_note()}"
                    )
            if time.monotonic() > deadline:
                # the runner should have killed the job at its timeout and said so: it did not
                self._kill_qemu()
                raise LabCrashed(
                    f"L1 did not finish job {name} within {timeout:g} s + 120 s slack "
                    f"(L1 was stopped){self._tail_note()}"
                )
            time.sleep(0.1)
        status = rc_file.read_text().split("\n", 1)
        return LabJob(
            stdout=_read(job / "stdout"),
            stderr=_read(job / "stderr") + status[1].partition("runner error: ")[2],
            rc=int(status[0]),
            files=job / "files",
            timed_out=status[1].startswith("timeout"),
        )

    def close(self) -> None:
        """Stop L1: ask the runner to stop, then kill qemu if it is still there. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                (self.share / ".lab" / "stop").touch()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._kill_qemu()
        if self._owned:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
