"""What the lab says when L1 does not come up: bad kernel, boot timeout, no kvm_amd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.lab.driver import L1_MODULES, Lab, LabBootError, LabUnavailable
from tests.lab.kernel import ensure_kernel


def _fake_kernel_cache(root: Path) -> Path:
    """A cache whose kernel "image" is a text file (with just enough module tree to build
    the initramfs)."""
    version = "9.9.9-fake-amd64"
    tree = root / "kernels" / version
    (tree / "boot").mkdir(parents=True)
    (tree / "boot" / f"vmlinuz-{version}").write_text("not a kernel\n")
    modules = tree / "lib" / "modules" / version
    (modules / "kernel").mkdir(parents=True)
    for name in L1_MODULES:
        (modules / "kernel" / f"{name}.ko").write_bytes(b"")
    (modules / "modules.dep").write_text("".join(f"kernel/{n}.ko:\n" for n in L1_MODULES))
    (tree / "slim").mkdir()
    (tree / "slim" / ".complete").touch()
    (tree / ".complete").touch()
    return root


def test_a_kernel_qemu_cannot_boot_says_what_qemu_said(tmp_path: Path) -> None:
    cache = _fake_kernel_cache(tmp_path / "cache")
    with pytest.raises(LabBootError) as e:
        Lab.boot(cache=cache, workdir=tmp_path / "work", boot_timeout=300)
    message = str(e.value)
    assert "exited with status" in message and "before it came up" in message
    assert "kernel" in message.lower()  # qemu's own reason, e.g. "...loading ... kernel..."
    assert "console tail" in message


def _real_kernel_or_skip() -> None:
    try:
        ensure_kernel()
    except LabUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"the lab cannot run: {e}", pytrace=False)
        pytest.skip(f"the lab cannot run here: {e}")


@pytest.mark.lab
def test_a_boot_timeout_says_so_with_the_console_tail(tmp_path: Path) -> None:
    _real_kernel_or_skip()
    with pytest.raises(LabBootError, match=r"L1 did not come up within 0\.5 s") as e:
        Lab.boot(workdir=tmp_path / "work", boot_timeout=0.5)
    assert "--- console tail" in str(e.value)


@pytest.mark.lab
def test_no_svm_means_kvm_amd_not_loadable(tmp_path: Path) -> None:
    """An L1 CPU without SVM: it boots, but kvm_amd cannot load, and the lab says so."""
    _real_kernel_or_skip()
    with pytest.raises(LabBootError, match="kvm_amd not loadable") as e:
        Lab.boot(workdir=tmp_path / "work", cpu_model="qemu64,-svm", boot_timeout=300)
    assert "L1 came up but is not usable" in str(e.value)
