"""The finished chunks of a `--switch-output` recording, each handed out exactly once.

perf writes the current chunk to `<base>` (`perf.data`); at each switch it finishes that file
and renames it to `<base>.<YYYYmmddHHMMSScc>` (local time, centiseconds), then prints
`[ perf record: Dump <path> ]` on stderr. So a file with the timestamp suffix is complete,
and `<base>` itself is the chunk in progress (left unfinished if perf was killed).

`ChunkTracker.announce()` takes the path from perf's Dump line (O(1) per chunk, so a refresh
costs the same at chunk 3,600 as at chunk 1); `scan()` lists the folder, once at the end, to
pick up anything an announcement missed. The manifest is written at start and at the end,
never per chunk (its chunk list grows with the recording).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BASE_NAME = "perf.data"
MANIFEST_NAME = "manifest.json"
_SUFFIX = re.compile(r"^(?P<ts>\d{16})$")
_DUMP = re.compile(r"^\[ perf record: Dump (?P<path>.+) \]$")


def chunk_time(name: str, base: str = BASE_NAME) -> float | None:
    """Epoch seconds from a chunk name `perf.data.2026112617103416`; None if not a chunk."""
    if not name.startswith(base + "."):
        return None
    m = _SUFFIX.match(name[len(base) + 1 :])
    if not m:
        return None
    ts = m["ts"]
    try:
        moment = datetime.strptime(ts[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.timestamp() + int(ts[14:]) / 100.0


def dump_path(stderr_line: str) -> str | None:
    """The chunk path in perf record's `[ perf record: Dump PATH ]` line."""
    m = _DUMP.match(stderr_line.strip())
    return m["path"] if m else None


@dataclass(frozen=True, slots=True)
class Chunk:
    """One finished perf.data chunk and the span of time it covers."""

    index: int
    path: Path
    start: float
    end: float
    size: int

    @property
    def name(self) -> str:
        return self.path.name


class ChunkTracker:
    """Hands out each finished chunk of one folder once, in order."""

    def __init__(self, folder: str | os.PathLike[str], start: float, base: str = BASE_NAME):
        self.folder = Path(folder)
        self.base = base
        self.start = start
        self._seen: set[str] = set()
        self._last_end = start
        self.chunks: list[Chunk] = []  # everything handed out so far (for the manifest)
        self.finished_bytes = 0

    @property
    def current(self) -> Path:
        """The chunk perf is writing now."""
        return self.folder / self.base

    def announce(self, path: str | os.PathLike[str]) -> Chunk | None:
        """A chunk perf said it finished; None if it was handed out before or is not ours."""
        p = Path(path)
        if p.parent.resolve() != self.folder.resolve():
            return None
        return self._take(p.name)

    def scan(self) -> list[Chunk]:
        """Every finished chunk in the folder not handed out yet, oldest first."""
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []  # the folder was removed under us
        names = [
            e.name
            for e in entries
            if e.name not in self._seen and chunk_time(e.name, self.base) is not None
        ]
        names.sort()  # fixed-width timestamps sort in time order
        return [c for c in (self._take(n) for n in names) if c is not None]

    def _take(self, name: str) -> Chunk | None:
        if name in self._seen:
            return None
        end = chunk_time(name, self.base)
        if end is None:
            return None
        path = self.folder / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        self._seen.add(name)
        start = min(self._last_end, end)
        chunk = Chunk(len(self.chunks), path, start, end, size)
        self._last_end = end
        self.chunks.append(chunk)
        self.finished_bytes += size
        return chunk

    @property
    def bytes_on_disk(self) -> int:
        """Finished chunks plus the one being written (a running sum: O(1))."""
        total = self.finished_bytes
        with contextlib.suppress(FileNotFoundError):
            total += self.current.stat().st_size
        return total

    def unfinished(self) -> Path | None:
        """`<base>` left behind (perf was killed mid-chunk), if any and not empty."""
        try:
            return self.current if self.current.stat().st_size > 0 else None
        except FileNotFoundError:
            return None


def iso(epoch: float | None) -> str | None:
    """Local ISO 8601 time with offset, or None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


@dataclass
class Manifest:
    """What a recording folder holds; saved as manifest.json (0600)."""

    vm_name: str
    vm_pid: int
    vm_started: float | None
    pinning_at_start: str | None
    perf_version: str | None
    argv: list[str]
    report_argv: list[str]
    interval_s: float
    events: list[str]
    vcpu: int | None
    started: float
    stopped: float | None = None
    pinning_at_end: str | None = None
    end_reason: str | None = None
    end_detail: str | None = None
    ok: bool | None = None
    chunks: list[dict[str, Any]] = field(default_factory=list)
    unfinished_chunk: str | None = None
    tool: str = "vmexit-tui"
    source: str = "perf"  # how it was recorded: perf (chunks), kernel, count, perf-live
    audit: list[dict[str, str]] = field(default_factory=list)  # host RT checks at start
    latency: dict[str, Any] | None = None  # cyclictest summary at the end, when one was read

    def set_chunks(self, chunks: Iterable[Chunk]) -> None:
        self.chunks = [
            {
                "index": c.index,
                "file": c.name,
                "bytes": c.size,
                "start": c.start,
                "end": c.end,
                "start_iso": iso(c.start),
                "end_iso": iso(c.end),
            }
            for c in chunks
        ]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_iso"] = iso(self.started)
        data["stopped_iso"] = iso(self.stopped)
        data["vm_started_iso"] = iso(self.vm_started)
        return data


def write_private(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` atomically (temporary file + rename) with mode 0600."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_manifest(folder: str | os.PathLike[str], manifest: Manifest) -> Path:
    path = Path(folder) / MANIFEST_NAME
    write_private(path, json.dumps(manifest.to_json(), indent=2) + "\n")
    return path


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest.json of a recording folder, as a dict."""
    path = Path(folder) / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no manifest.json; is this a recording folder?") from None
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def make_private_dir(folder: str | os.PathLike[str]) -> Path:
    """Create `folder` (and parents) with mode 0700; tighten it if it exists."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
