"""What the lab says when it cannot run (no boot needed), and its initramfs writer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.lab.cpio import CpioWriter
from tests.lab.driver import Lab, LabUnavailable
from tests.lab.kernel import ensure_kernel


def test_no_qemu_says_so() -> None:
    with pytest.raises(LabUnavailable, match="qemu-system-bogus is not installed"):
        Lab.boot(qemu="qemu-system-bogus")


def test_a_cache_that_is_a_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "not-a-folder"
    bogus.write_text("")
    monkeypatch.setenv("VMEXIT_TUI_LAB_CACHE", str(bogus))
    with pytest.raises(LabUnavailable, match=f"lab cache {bogus} is not a usable folder"):
        Lab.boot()


def test_a_kernel_package_that_cannot_be_downloaded_says_so(tmp_path: Path) -> None:
    # apt knows no such package: apt-get fails without touching the network
    with pytest.raises(LabUnavailable, match=r"download the kernel package linux-image-0\.0-bogus"):
        ensure_kernel(tmp_path, package="linux-image-0.0-bogus-amd64")


def test_cpio_archive_unpacks_with_busybox(tmp_path: Path) -> None:
    archive = tmp_path / "a.cpio"
    with open(archive, "wb") as f:
        w = CpioWriter(f)
        w.file("etc/deep/x.txt", b"hello\n", 0o600)
        w.symlink("bin/sh", "busybox")
        w.file("odd", b"12345")
        w.close()
    out = tmp_path / "out"
    out.mkdir()
    unpack = ["busybox", "cpio", "-i", "-d", "-F", str(archive)]
    subprocess.run(unpack, cwd=out, check=True, capture_output=True)
    assert (out / "etc/deep/x.txt").read_bytes() == b"hello\n"
    assert (out / "etc/deep/x.txt").stat().st_mode & 0o777 == 0o600
    assert (out / "bin/sh").readlink() == Path("busybox")
    assert (out / "odd").read_bytes() == b"12345"
