"""A minimal writer of `newc` cpio archives, the format Linux unpacks as an initramfs.

Entries are written as given (no host ownership, mtime 0), so an archive's bytes depend only
on its contents: it can be cached by content.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import BinaryIO


class CpioWriter:
    """Writes directories, files, symlinks and device nodes into one newc archive."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._ino = 1
        self._dirs: set[str] = set()

    def _entry(
        self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)
    ) -> None:
        name_bytes = name.encode() + b"\0"
        fields = (
            self._ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data),
            0, 0, rdev[0], rdev[1], len(name_bytes), 0,
        )  # fmt: skip
        self._ino += 1
        header = b"070701" + b"".join(f"{f:08x}".encode() for f in fields)
        self._out.write(header + name_bytes)
        self._out.write(b"\0" * (-(len(header) + len(name_bytes)) % 4))
        self._out.write(data)
        self._out.write(b"\0" * (-len(data) % 4))

    def directory(self, name: str, mode: int = 0o755) -> None:
        """A directory, and its parents, once each."""
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if path and path not in self._dirs:
                self._dirs.add(path)
                self._entry(path, stat.S_IFDIR | mode)

    def _parent(self, name: str) -> str:
        name = name.strip("/")
        if "/" in name:
            self.directory(name.rsplit("/", 1)[0])
        return name

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(self._parent(name), stat.S_IFREG | mode, data)

    def copy(self, name: str, source: Path, mode: int | None = None) -> None:
        """A host file's contents (symlinks followed) under `name`."""
        self.file(
            name, source.read_bytes(), mode if mode is not None else source.stat().st_mode & 0o7777
        )

    def symlink(self, name: str, target: str) -> None:
        self._entry(self._parent(name), stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._entry(self._parent(name), stat.S_IFCHR | mode, rdev=(major, minor))

    def close(self) -> None:
        """Write the trailer; the archive is complete."""
        self._entry("TRAILER!!!", 0)
