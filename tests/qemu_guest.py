"""A real QEMU guest for tests: started on demand, always killed and reaped.

    from tests.qemu_guest import qemu_guest, guest_fixture, needs_qemu

    pytestmark = needs_qemu          # marks `qemu`, skips when qemu-system-x86_64 is missing
    guest = guest_fixture()          # a pytest fixture yielding the guest's psutil.Process
    # tests/conftest.py adds `no_new_perf`: fails a test that leaves a perf process running

    with qemu_guest(smp=2) as proc:  # or directly, as a context manager
        ...

The guest has no disk: it sits in the firmware, which still makes vCPU exits. It uses KVM
when /dev/kvm can be opened and falls back to TCG otherwise. The child gets PDEATHSIG=SIGKILL,
so even a crashed test run does not leave it behind.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil
import pytest

QEMU = "qemu-system-x86_64"
needs_qemu = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which(QEMU) is None, reason=f"{QEMU} is not installed"),
]
_VCPU_NAME = re.compile(r"^CPU (\d+)/\w+$")
_counter = itertools.count()


def kvm_usable() -> bool:
    """Whether /dev/kvm can be opened read-write."""
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def vcpu_tids(pid: int) -> dict[int, int]:
    """vCPU index -> thread id, from QEMU's `CPU n/KVM` thread names."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                m = _VCPU_NAME.match(f.read().strip())
        except OSError:
            continue
        if m:
            found[int(m.group(1))] = int(tid)
    return found


def _kvm_vcpu_fds(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("anon_inode:kvm-vcpu")
        except OSError:
            continue
    return count


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextmanager
def qemu_guest(
    name: str | None = None,
    *,
    smp: int = 2,
    mem_mb: int = 64,
    debug_threads: bool = True,
    timeout: float = 20.0,
    accel: str | None = None,
) -> Iterator[psutil.Process]:
    """Run a diskless guest until the block ends; yields once all its vCPUs exist.

    `accel` "kvm" or "tcg" forces one (a forced "kvm" skips the test when /dev/kvm is not
    usable); None takes KVM when it can.
    """
    name = name or f"vmexit-test-{os.getpid()}-{next(_counter)}"
    if accel == "kvm" and not kvm_usable():
        pytest.skip("/dev/kvm cannot be opened")
    kvm = kvm_usable() if accel is None else accel == "kvm"
    argv = [
        QEMU,
        *(["-enable-kvm"] if kvm else ["-accel", "tcg"]),
        "-name",
        f"guest={name},debug-threads=on" if debug_threads else name,
        "-smp",
        str(smp),
        "-m",
        str(mem_mb),
        "-nographic",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
    ]
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_die_with_parent,
        )
        try:
            proc = psutil.Process(child.pid)
            deadline = time.monotonic() + timeout
            while True:
                if child.poll() is not None:
                    err.seek(0)
                    raise RuntimeError(
                        f"{' '.join(argv)} exited with {child.returncode}: "
                        + err.read().decode(errors="replace").strip()
                    )
                if debug_threads:
                    ready = len(vcpu_tids(child.pid)) == smp
                elif kvm:
                    ready = _kvm_vcpu_fds(child.pid) == smp
                else:
                    ready = proc.num_threads() > smp
                if ready:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{QEMU} (pid {child.pid}) had no {smp} vCPUs in {timeout}s")
                time.sleep(0.02)
            yield proc
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)


def guest_fixture(
    name: str | None = None, *, scope: str = "function", **options: object
) -> Callable[..., Iterator[psutil.Process]]:
    """A pytest fixture running `qemu_guest(name, **options)` around each test (or `scope`)."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def _guest() -> Iterator[psutil.Process]:
        with qemu_guest(name, **options) as proc:  # type: ignore[arg-type]
            yield proc

    return _guest


def perf_pids() -> set[int]:
    """Pids of the perf processes running now."""
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "perf"}
