"""The emulator that runs L1: the host's QEMU if it is 8 or later, else QEMU from backports.

Debian 12's QEMU 7.2 emulates SVM under TCG with faults that nested guests hit: in full lab
runs L1 panicked ("corrupted stack end detected inside scheduler" in a vCPU thread), reset
itself (a triple fault) or lost an L2 guest two or three times a run. Debian's backports build
of QEMU 10 did so about once a run (a silent reset, or a CPU without timer interrupts), which
the driver survives. It is fetched once, like the kernel:

    $VMEXIT_TUI_LAB_CACHE/apt/            a private apt state: sources list, package lists
    $VMEXIT_TUI_LAB_CACHE/qemu/<version>/ `dpkg -x` of qemu-system-x86, qemu-system-data and
                                          seabios; `.complete` when whole

apt verifies the packages against the Debian archive keyring; nothing is installed on the
host and the host's apt state is not touched. `$VMEXIT_TUI_LAB_QEMU` names another binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.errors import LabUnavailable
from tests.lab.kernel import cache_dir, locked, run_tool, usable_cache

HOST_QEMU = "qemu-system-x86_64"
PACKAGES = ["qemu-system-x86", "qemu-system-data", "seabios"]
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
MIN_MAJOR = 8  # below this, TCG's SVM is the one that crashed L1
_COMPLETE = ".complete"


@dataclass(frozen=True)
class LabQemu:
    """A qemu-system-x86_64 binary, the firmware folders it is given (`-L`), and why."""

    binary: str
    data_dirs: list[Path] = field(default_factory=list)
    note: str = ""

    def argv(self) -> list[str]:
        return [self.binary, *(a for d in self.data_dirs for a in ("-L", str(d)))]


def qemu_version(binary: str | Path) -> str | None:
    """The version `binary --version` prints ("10.0.2"), None if it prints none."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"version (\d+\.\S*)", out.stdout.split("\n", 1)[0])
    return m.group(1) if m else None


def qemu_major(binary: str) -> int:
    """The major version `binary --version` prints (0 if it prints none)."""
    version = qemu_version(binary)
    return int(version.split(".")[0]) if version else 0


def _mirror_and_codename() -> tuple[str, str]:
    """The host's Debian mirror (from its apt sources) and release codename."""
    codename = ""
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    if not codename:
        raise LabUnavailable("/etc/os-release names no VERSION_CODENAME: not Debian?")
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.sources")]
    for path in sources:
        text = path.read_text() if path.is_file() else ""
        for uri in re.findall(r"(?:^URIs:|^deb)\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/"), codename
    return "http://deb.debian.org/debian", codename


def _download(cache: Path, into: Path) -> None:
    """`apt-get download` PACKAGES from <codename>-backports with a private apt state."""
    mirror, codename = _mirror_and_codename()
    apt = cache / "apt"
    for d in ("lists/partial", "parts", "cache/archives/partial"):
        (apt / d).mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text(
        f"deb [signed-by={KEYRING}] {mirror} {codename}-backports main\n"
    )
    options = [
        f"-oDir::Etc::SourceList={apt / 'sources.list'}",
        f"-oDir::Etc::SourceParts={apt / 'parts'}",
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt / 'cache'}",
        "-oAPT::Sandbox::User=root",
        "-oDebug::NoLocking=1",
    ]
    what = f"read the package lists of {codename}-backports ({mirror})"
    run_tool(["apt-get", *options, "-q", "update"], what=what)
    what = f"download {' '.join(PACKAGES)} from {codename}-backports"
    run_tool(["apt-get", *options, "download", *PACKAGES], cwd=into, what=what)


def backports_qemu(cache: Path | None = None) -> LabQemu:
    """QEMU from backports, from the cache or downloaded and unpacked into it."""
    cache = usable_cache(cache or cache_dir())
    with locked(cache):
        for done in sorted((cache / "qemu").glob(f"*/{_COMPLETE}")):
            return _unpacked(done.parent)
        (cache / "qemu").mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache / "qemu"))
        try:
            debs = tmp / "debs"
            debs.mkdir()
            _download(cache, debs)
            for deb in sorted(debs.glob("*.deb")):
                run_tool(["dpkg", "-x", str(deb), str(tmp / "root")], what=f"unpack {deb.name}")
            shutil.rmtree(debs)
            found = _unpacked(tmp)
            version = qemu_version(found.binary)
            if version is None:
                raise LabUnavailable(f"{found.binary} does not run or print its version")
            final = cache / "qemu" / version
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
            (final / _COMPLETE).touch()
            return _unpacked(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _unpacked(root: Path) -> LabQemu:
    binary = root / "root" / "usr" / "bin" / "qemu-system-x86_64"
    if not binary.exists():
        raise LabUnavailable(f"{root} holds no usr/bin/qemu-system-x86_64: remove it")
    share = root / "root" / "usr" / "share"
    return LabQemu(str(binary), [share / "qemu", share / "seabios"], f"QEMU {root.name} ({root})")


def lab_qemu(requested: str | None = None) -> LabQemu:
    """The emulator for L1: `requested` (or `$VMEXIT_TUI_LAB_QEMU`) as given; else the host's
    qemu-system-x86_64 if it is recent enough; else QEMU from backports (the host's, with a
    note, if backports cannot be had)."""
    requested = requested or os.environ.get("VMEXIT_TUI_LAB_QEMU")
    if requested:
        path = shutil.which(requested)
        if path is None:
            raise LabUnavailable(f"{requested} is not installed (apt-get install qemu-system-x86)")
        return LabQemu(path, note=f"{path} as asked")
    host = shutil.which("qemu-system-x86_64")
    if host is None:
        raise LabUnavailable(
            "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
        )
    major = qemu_major(host)
    if major >= MIN_MAJOR:
        return LabQemu(host, note=f"the host's QEMU {major}")
    try:
        return backports_qemu()
    except LabUnavailable as e:
        return LabQemu(host, note=f"the host's QEMU {major}, which crashes L1 now and then: {e}")
