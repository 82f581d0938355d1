"""The lab's kernel: Debian's linux-image package, downloaded once into a cache and unpacked.

    $VMEXIT_TUI_LAB_CACHE (default ~/.cache/vmexit-tui/lab)
        kernels/<version>/     `dpkg -x` of the package, `depmod` run, `.complete` when whole
        kernels/<version>/slim/lib/modules/<version>/   the few modules L1 loads (see below)
        downloads/             where `apt-get download` puts the .deb (deleted once unpacked)

Nothing is installed on the host. A cached kernel is used without asking apt, so only the first
run needs the package registry. A lock file serialises several test runs sharing one cache.

L1 gets a slim module tree, not the package's 4,000 modules: `perf record` walks the whole
/lib/modules/<version> tree at startup, which over virtfs under TCG took minutes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.lab.errors import LabUnavailable

META_PACKAGE = "linux-image-amd64"
_COMPLETE = ".complete"
# what L1 may load: KVM, what its initramfs needs, and a few devices tools expect
SLIM_MODULES = ["kvm_amd", "virtio_pci", "9pnet_virtio", "9p", "overlay", "msr", "cpuid", "tun"]
_MODULE_INDEXES = ("modules.order", "modules.builtin", "modules.builtin.modinfo")


def cache_dir() -> Path:
    """$VMEXIT_TUI_LAB_CACHE, else ~/.cache/vmexit-tui/lab."""
    env = os.environ.get("VMEXIT_TUI_LAB_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "vmexit-tui" / "lab"


@dataclass(frozen=True)
class LabKernel:
    """An unpacked kernel package: the kernel image and its module tree."""

    version: str
    root: Path

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.version}"

    @property
    def modules(self) -> Path:
        return self.root / "lib" / "modules" / self.version

    def module_paths(self, names: list[str]) -> list[Path]:
        """The .ko files of `names` and everything they depend on, dependencies first."""
        deps: dict[str, list[str]] = {}
        for line in (self.modules / "modules.dep").read_text().splitlines():
            target, _, needs = line.partition(":")
            deps[target] = needs.split()
        by_name = {Path(p).name.removesuffix(".ko").replace("-", "_"): p for p in deps}
        ordered: list[str] = []

        def add(path: str) -> None:
            for dep in reversed(deps[path]):
                add(dep)
            if path not in ordered:
                ordered.append(path)

        for name in names:
            path = by_name.get(name.replace("-", "_"))
            if path is None:
                raise LabUnavailable(f"{self.modules}/modules.dep has no module {name}")
            add(path)
        return [self.modules / p for p in ordered]

    @property
    def slim_root(self) -> Path:
        return self.root / "slim"

    @property
    def slim_modules(self) -> Path:
        """A module tree with only SLIM_MODULES and their dependencies (built by ensure_kernel)."""
        return self.slim_root / "lib" / "modules" / self.version

    def build_slim(self) -> None:
        """Hard-link SLIM_MODULES (with dependencies) into slim_root and depmod it."""
        tmp = Path(tempfile.mkdtemp(prefix=".slim-", dir=self.root))
        try:
            target = tmp / "lib" / "modules" / self.version
            for ko in self.module_paths(SLIM_MODULES):
                dest = target / ko.relative_to(self.modules)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(ko, dest)
                except OSError:
                    shutil.copy2(ko, dest)
            for name in _MODULE_INDEXES:
                shutil.copy2(self.modules / name, target / name)
            run_tool(["depmod", "-b", str(tmp), self.version], what="run depmod on the slim tree")
            shutil.rmtree(self.slim_root, ignore_errors=True)
            tmp.rename(self.slim_root)
            (self.slim_root / _COMPLETE).touch()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def run_tool(argv: list[str], *, cwd: Path | None = None, what: str) -> str:
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise LabUnavailable(f"{argv[0]} is not installed: needed to {what}") from None
    except subprocess.TimeoutExpired:
        raise LabUnavailable(f"{' '.join(argv)} did not finish in 600 s ({what})") from None
    if out.returncode != 0:
        lines = [ln for ln in out.stderr.splitlines() if not ln.startswith("W:")]
        detail = lines[-1] if lines else f"exit status {out.returncode}"
        raise LabUnavailable(f"could not {what}: {' '.join(argv)}: {detail}")
    return out.stdout


def usable_cache(cache: Path) -> Path:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LabUnavailable(f"lab cache {cache} is not a usable folder: {e.strerror}") from None
    if not cache.is_dir() or not os.access(cache, os.W_OK | os.X_OK):
        raise LabUnavailable(f"lab cache {cache} is not a writable folder")
    return cache


@contextlib.contextmanager
def locked(cache: Path) -> Iterator[None]:
    with open(cache / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def cached_kernels(cache: Path) -> list[LabKernel]:
    """The complete kernels in the cache, newest version last."""
    found = [
        LabKernel(d.name, d) for d in (cache / "kernels").glob("*") if (d / _COMPLETE).exists()
    ]
    return sorted(
        found,
        key=lambda k: [int(x) if x.isdigit() else x for x in re.split(r"\D+", k.version) if x],
    )


def current_package() -> str:
    """The linux-image-<version>-amd64 package that linux-image-amd64 depends on now."""
    what = f"find the package {META_PACKAGE} names"
    out = run_tool(["apt-cache", "depends", META_PACKAGE], what=what)
    m = re.search(r"Depends:\s*(linux-image-\S+)", out)
    if not m:
        raise LabUnavailable(f"apt-cache depends {META_PACKAGE} names no linux-image package")
    return m.group(1)


def unpack(deb: Path, cache: Path) -> LabKernel:
    """`dpkg -x` a kernel package into the cache and `depmod` it."""
    kernels = cache / "kernels"
    kernels.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=kernels))
    try:
        run_tool(["dpkg", "-x", str(deb), str(tmp)], what=f"unpack {deb}")
        versions = [d.name for d in (tmp / "lib" / "modules").glob("*")]
        if len(versions) != 1 or not (tmp / "boot" / f"vmlinuz-{versions[0]}").exists():
            raise LabUnavailable(f"{deb} is not a kernel image package (no boot/vmlinuz-*)")
        version = versions[0]
        run_tool(["depmod", "-b", str(tmp), version], what=f"run depmod on {deb}")
        final = kernels / version
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        (final / _COMPLETE).touch()
        return LabKernel(version, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_kernel(cache: Path | None = None, package: str | None = None) -> LabKernel:
    """A kernel from the cache; downloads and unpacks `package` (default: the current one)
    when the cache has none (or not that one)."""
    cache = usable_cache(cache or cache_dir())
    with locked(cache):
        have = cached_kernels(cache)
        if package is None and have:
            return _with_slim(have[-1])
        package = package or current_package()
        for k in have:
            if package == f"linux-image-{k.version}":
                return _with_slim(k)
        downloads = cache / "downloads"
        downloads.mkdir(exist_ok=True)
        for old in downloads.glob("*.deb"):
            old.unlink()
        what = f"download the kernel package {package}"
        run_tool(["apt-get", "download", package], cwd=downloads, what=what)
        debs = sorted(downloads.glob("*.deb"))
        if not debs:
            raise LabUnavailable(f"apt-get download {package} left no .deb in {downloads}")
        kernel = unpack(debs[0], cache)
        for deb in debs:
            deb.unlink()
        return _with_slim(kernel)


def _with_slim(kernel: LabKernel) -> LabKernel:
    if not (kernel.slim_root / _COMPLETE).exists():
        kernel.build_slim()
    return kernel
