"""Process hygiene: every perf we start dies with us, and one VM is recorded once at a time.

- `spawn` starts a subprocess (asyncio) in its own session and process group, so a Ctrl+C
  in the terminal reaches us and not perf (we stop perf ourselves, with SIGINT, so it can
  finish its file), with umask 077 (its files are 0600), and with `PR_SET_PDEATHSIG` so the
  kernel sends it SIGTERM if we die, even by SIGKILL. perf record finishes its current
  chunk on SIGTERM as on SIGINT. (PDEATHSIG follows the *thread* that forked: spawn from the
  thread that runs the event loop, which is the main thread in the CLI and in Textual.)
- `REGISTRY` knows every live child; the CLI and the app stop them all on their way out.
- `RecordingLock` is a lock file per VM (pid + start time) in the output root; a lock whose
  owner or VM is gone is stale and is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from vmexit_tui.host.proc_start import same_process, start_ticks, started, ticks_of

PR_SET_PDEATHSIG = 1
DEATH_SIGNAL = signal.SIGTERM


def _set_pdeathsig(sig: int = DEATH_SIGNAL, parent: int | None = None) -> None:
    """In the child, before exec: die with `sig` when the parent goes away."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(err)}")
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)  # the parent died before prctl took effect


def child_setup(parent: int) -> Callable[[], None]:
    """A `preexec_fn`: umask 077 and PDEATHSIG (the session comes from start_new_session)."""

    def setup() -> None:
        os.umask(0o077)
        _set_pdeathsig(DEATH_SIGNAL, parent)

    return setup


@dataclass(frozen=True, slots=True)
class ChildRef:
    """A child process identified by pid and start time (safe against pid reuse)."""

    pid: int
    created: float
    argv: tuple[str, ...]

    def alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            return same_process(self.pid, self.created) and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def signal(self, sig: int) -> bool:
        """Send `sig` if this is still our child; False when it is already gone."""
        if not self.alive():
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True


class ProcessRegistry:
    """Every child process we started and have not yet seen exit."""

    def __init__(self) -> None:
        self._children: dict[int, ChildRef] = {}

    def add(self, pid: int, argv: Sequence[str]) -> ChildRef:
        try:
            created = started(pid)
        except psutil.Error:
            created = 0.0
        ref = ChildRef(pid, created, tuple(argv))
        self._children[pid] = ref
        return ref

    def discard(self, pid: int) -> None:
        self._children.pop(pid, None)

    @property
    def children(self) -> tuple[ChildRef, ...]:
        return tuple(self._children.values())

    def stop_all(self, grace: float = 5.0, sig: int = signal.SIGINT) -> list[ChildRef]:
        """Stop every child (blocking): `sig`, then SIGKILL after `grace` s; returns them."""
        refs = [r for r in self._children.values() if r.alive()]
        for r in refs:
            r.signal(sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(r.alive() for r in refs):
            _reap(refs)
            time.sleep(0.02)
        for r in refs:
            r.signal(signal.SIGKILL)
        _reap(refs)
        self._children.clear()
        return refs


def _reap(refs: Sequence[ChildRef]) -> None:
    for r in refs:
        # ChildProcessError: not ours to reap, or asyncio's watcher already did.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(r.pid, os.WNOHANG)


REGISTRY = ProcessRegistry()


async def spawn(
    argv: Sequence[str],
    *,
    stdin: int | None = asyncio.subprocess.DEVNULL,
    registry: ProcessRegistry = REGISTRY,
    **kwargs: Any,
) -> asyncio.subprocess.Process:
    """Start `argv` (a list, never a shell string) as a registered, self-cleaning child.

    stdout and stderr are pipes: the caller must read both until EOF.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=child_setup(os.getpid()),
        **kwargs,
    )
    registry.add(proc.pid, argv)
    return proc


async def finish(
    proc: asyncio.subprocess.Process,
    *,
    sig: int | None = signal.SIGINT,
    grace: float = 10.0,
    registry: ProcessRegistry = REGISTRY,
) -> int:
    """Stop `proc` (send `sig`, wait `grace` s, then SIGTERM, then SIGKILL); its exit code."""
    try:
        if proc.returncode is None and sig is not None:
            _send(proc, sig)
        for next_sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                return await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
            except TimeoutError:
                _send(proc, next_sig)
                grace = 5.0
        return await proc.wait()
    finally:
        if proc.returncode is not None:
            registry.discard(proc.pid)


def _send(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def kill_now(proc: asyncio.subprocess.Process, registry: ProcessRegistry = REGISTRY) -> None:
    """Synchronous last resort (cancellation paths): SIGKILL if still running."""
    _send(proc, signal.SIGKILL)
    registry.discard(proc.pid)


# ---- one recording per VM ----------------------------------------------------------------


class AlreadyRecording(RuntimeError):
    """Another live recording holds the lock of this VM."""


def catches_signal(pid: int, sig: int) -> bool:
    """Whether process `pid` has installed a handler for `sig` (its /proc status `SigCgt`)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _process_started(pid: int) -> float | None:
    try:
        return started(pid)
    except psutil.Error:
        return None


def _start_ticks(pid: int) -> int | None:
    try:
        return start_ticks(pid)
    except psutil.Error:
        return None


class RecordingLock:
    """`<root>/.vmexit-tui-<vmpid>-<vmticks>.lock`: refuses a second recording of one VM.

    Created atomically (O_EXCL, 0600). It names its owner (pid + start in ticks after boot)
    and the folder being written; a lock whose owner is gone, or whose VM is gone, is stale
    and is replaced.
    """

    def __init__(self, root: str | os.PathLike[str], vm_pid: int, vm_started: float) -> None:
        self.root = Path(root)
        self.vm_pid = vm_pid
        self.vm_started = vm_started
        self.path = self.root / f".vmexit-tui-{vm_pid}-{ticks_of(vm_started)}.lock"
        self.held = False

    def acquire(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        me = os.getpid()
        body = json.dumps(
            {
                "owner_pid": me,
                "owner_started": _process_started(me),
                "owner_start_ticks": _start_ticks(me),
                "vm_pid": self.vm_pid,
                "vm_started": self.vm_started,
                "folder": str(folder) if folder is not None else None,
                "since": time.time(),
            }
        ).encode()
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                holder = self.holder()
                if holder is not None and not self._stale(holder):
                    raise AlreadyRecording(
                        f"VM pid {self.vm_pid} is already being recorded by pid "
                        f"{holder.get('owner_pid')} into {holder.get('folder')} "
                        f"(lock {self.path}); stop that recording first"
                    ) from None
                # Stale: its owner or its VM is gone.
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                continue
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            self.held = True
            return
        raise AlreadyRecording(f"could not take the lock {self.path} (it keeps reappearing)")

    def holder(self) -> dict | None:
        """The lock's contents, or None when it is unreadable (treated as stale)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _stale(self, holder: dict) -> bool:
        owner, ticks = holder.get("owner_pid"), holder.get("owner_start_ticks")
        # ticks after boot: another vmexit-tui's epoch times differ after a clock step
        if not isinstance(owner, int) or not isinstance(ticks, int) or _start_ticks(owner) != ticks:
            return True
        return not same_process(self.vm_pid, self.vm_started)

    def release(self) -> None:
        if not self.held:
            return
        holder = self.holder()
        if holder is None or holder.get("owner_pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.held = False
