"""The latency source: cyclictest's output read live from a command, a growing file or stdin.

- a command (`--latency-cmd "ssh rt-guest cyclictest -m -p95 -i 1000 -t 2"`): split with
  `shlex.split` and run as an argument list (never through a shell), its stdout on a
  pseudo-terminal so that it is line-buffered like on a terminal; stopped (SIGTERM, then
  SIGKILL) when the feed stops;
- a file that grows (`--latency-file PATH`, e.g. a guest's serial console log): read from its
  current end (like `tail -f`), from the start again when it is truncated;
- stdin (headless mode).

`LatencyFeed.events()` yields one `LatencyInterval` every `interval_s` seconds of wall clock
(epoch times, like the exit intervals), then one `LatencyEnded`. The parsing is
`vmexit_tui.formats.cyclictest`, the figures and spikes `vmexit_tui.analysis.latency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import shlex
import signal
import stat
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary, LatencyTracker, summarize
from vmexit_tui.formats.cyclictest import CyclictestStream, nsecs_requested

__all__ = [
    "LatencyEnded",
    "LatencyFeed",
    "LatencySpec",
    "command_chunks",
    "file_chunks",
    "stream_chunks",
]

READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class LatencySpec:
    """Where cyclictest's output comes from (exactly one of command, file, stdin)."""

    command: str | None = None
    file: str | None = None
    stdin: bool = False
    spike_us: float | None = None
    nsecs: bool = False  # the text is in ns (cyclictest -N); found by itself in a command

    @property
    def in_ns(self) -> bool:
        return self.nsecs or (
            self.command is not None and nsecs_requested(shlex.split(self.command))
        )

    def describe(self) -> str:
        unit = " (ns)" if self.in_ns else ""
        if self.command:
            return f"command: {self.command}"
        if self.file:
            return f"file: {self.file}{unit}"
        return f"stdin{unit}" if self.stdin else "none"

    def chunks(self) -> AsyncIterator[str]:
        """The text source this spec names."""
        if self.command:
            return command_chunks(shlex.split(self.command))
        if self.file:
            return file_chunks(self.file)
        if self.stdin:
            return stream_chunks(sys.stdin.buffer)
        raise ValueError("a latency source needs a command, a file or stdin")


@dataclass(frozen=True, slots=True)
class LatencyEnded:
    """The last event of a feed: why it ended."""

    reason: str
    ok: bool


class CommandFailed(RuntimeError):
    """The latency command could not start or ended with an error."""


async def command_chunks(argv: list[str]) -> AsyncIterator[str]:
    """Text the command prints (stdout on a pty, stderr kept for the error); always reaped."""
    if not argv:
        raise CommandFailed("the latency command is empty")
    master, slave = pty.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=slave,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as err:
        os.close(master)
        os.close(slave)
        raise CommandFailed(f"cannot run {argv[0]}: {err.strerror or err}") from None
    os.close(slave)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every writer closed the pty
            data = b""
        if not data:
            loop.remove_reader(master)
            queue.put_nowait(None)
        else:
            queue.put_nowait(data)

    loop.add_reader(master, readable)
    assert proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    try:
        while (data := await queue.get()) is not None:
            yield data.decode(errors="replace")
        rc = await proc.wait()
        stderr = (await stderr_task).decode(errors="replace").strip()
        if rc != 0:
            tail = stderr.splitlines()[-1] if stderr else "no message"
            raise CommandFailed(f"{argv[0]} exited with status {rc}: {tail}")
    finally:
        loop.remove_reader(master)
        os.close(master)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)  # cyclictest prints its summary on SIGTERM
            try:
                await asyncio.wait_for(proc.wait(), 3.0)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        stderr_task.cancel()


async def file_chunks(
    path: str | os.PathLike[str], *, from_start: bool = False, poll_s: float = 0.1
) -> AsyncIterator[str]:
    """What is appended to `path` from now on (or from its start); waits for it to exist."""
    path = Path(path)
    pos: int | None = 0 if from_start else None
    mid_line = False  # started in the middle of a line: its rest is not a whole line
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            await asyncio.sleep(poll_s)
            pos = 0 if pos is None else pos
            continue
        if pos is None:
            pos = size
            if size:
                with path.open("rb") as f:
                    f.seek(size - 1)
                    mid_line = f.read(1) != b"\n"
        if size < pos:  # truncated or replaced: start over
            pos, mid_line = 0, False
        if size > pos:
            with path.open("rb") as f:
                f.seek(pos)
                data = f.read(min(size - pos, 4 * READ_SIZE))
            pos += len(data)
            if mid_line:
                cut = data.find(b"\n")
                if cut < 0:
                    continue
                data, mid_line = data[cut + 1 :], False
            yield data.decode(errors="replace")
            continue
        await asyncio.sleep(poll_s)


async def stream_chunks(stream: BinaryIO) -> AsyncIterator[str]:
    """Text from a binary stream (stdin) until EOF. A pipe or terminal is watched by the event
    loop (no thread left blocked in a read at shutdown); a regular file is read directly."""
    fd = stream.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):
        while data := os.read(fd, READ_SIZE):
            yield data.decode(errors="replace")
        return
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
        queue.put_nowait(data)

    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    loop.add_reader(fd, readable)
    try:
        while data := await queue.get():
            yield data.decode(errors="replace")
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, blocking)


class LatencyFeed:
    """cyclictest text in, `LatencyInterval`s out, one per `interval_s`."""

    def __init__(
        self,
        chunks: AsyncIterator[str],
        *,
        interval_s: float = 1.0,
        spike_us: float | None = None,
        source: str = "",
        clock: Callable[[], float] = time.time,
        nsecs: bool = False,
    ) -> None:
        self._chunks = chunks
        self.interval_s = interval_s
        self.clock = clock
        self.source = source
        self.stream = CyclictestStream(nsecs)  # nsecs: cyclictest -N prints ns
        self.tracker = LatencyTracker(spike_us)
        self.intervals: list[LatencyInterval] = []
        self._stopping = asyncio.Event()
        self.error: str | None = None

    async def stop(self) -> None:
        """Finish: the current interval is handed out, then `LatencyEnded`."""
        self.request_stop()

    def request_stop(self) -> None:
        """`stop()` for synchronous callers."""
        self._stopping.set()

    async def _read(self, done: asyncio.Event) -> None:
        try:
            async for text in self._chunks:
                now = self.clock()
                for status in self.stream.feed(text):
                    self.tracker.add(status, now)
            for status in self.stream.close():
                self.tracker.add(status, self.clock())
        except Exception as err:  # the source's failure ends the feed, with its message
            self.error = str(err)
        finally:
            done.set()

    async def events(self) -> AsyncIterator[LatencyInterval | LatencyEnded]:
        """Intervals as they finish, then one `LatencyEnded`."""
        done = asyncio.Event()
        reader = asyncio.create_task(self._read(done))
        start = self.clock()
        try:
            while True:
                waiters = [asyncio.ensure_future(e.wait()) for e in (done, self._stopping)]
                finished, pending = await asyncio.wait(
                    waiters, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED
                )
                for w in pending:
                    w.cancel()
                end = self.clock()
                interval = self.tracker.take(start, end)
                start = end
                if interval.threads or interval.spikes:
                    self.intervals.append(interval)
                    yield interval
                if finished:
                    break
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            with contextlib.suppress(Exception):
                await self._chunks.aclose()  # type: ignore[attr-defined]
        if self.error:
            yield LatencyEnded(self.error, ok=False)
        elif self._stopping.is_set():
            yield LatencyEnded("stopped", ok=True)
        elif not self.tracker.last_statuses():
            yield LatencyEnded("the latency source ended (no cyclictest status line in it)", True)
        else:
            yield LatencyEnded("the latency source ended", ok=True)

    def summary(self) -> LatencySummary:
        """What was read so far, as a run summary."""
        return summarize(
            self.stream.summaries(),
            self.tracker,
            skipped_lines=self.stream.skipped_lines,
            source=self.source,
        )
