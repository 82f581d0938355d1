"""Every way out of the app stops the recording first: q, ctrl+q, SIGTERM, SIGHUP, unmount.

`CleanExit` is mixed into the App; it needs the App's `stop_recording()` and `sessions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from textual.app import App

from vmexit_tui.host import lifecycle
from vmexit_tui.recording.session import STOP_TIMEOUT_S, RecordingSession


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: the terminal hung up (SSH dropped).

    Writes to a hung-up tty fail or never drain; with the standard streams on /dev/null
    nothing the app still draws can block the recorder's clean stop.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


class CleanExit(App[int]):
    """Quitting, signals and hang-ups: each awaits the recorder's stop."""

    # What a hang-up does to the process; the Pilot tests replace them (the tmux
    # end-to-end test runs the real ones).
    detach_terminal: Callable[[], None] = staticmethod(detach_from_terminal)
    end_process: Callable[[int], None] = staticmethod(os._exit)

    quitting = False
    sessions: list[RecordingSession]

    async def stop_recording(self) -> None:
        raise NotImplementedError

    async def action_quit(self) -> None:
        await self.quit_cleanly()

    async def quit_cleanly(self, code: int = 0) -> None:
        """Stop any recording (awaiting the recorder), then exit."""
        if self.quitting:
            return
        self.quitting = True
        await self.stop_recording()
        self.exit(return_code=code)

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        if sig == signal.SIGHUP:
            self.run_worker(self._hang_up(), group="quit", exit_on_error=False)
            return
        self.run_worker(self.quit_cleanly(128 + sig), group="quit", exit_on_error=False)

    async def _hang_up(self) -> None:
        """The terminal is gone (SSH dropped): finish the recording, then leave at once.

        Textual's normal exit restores the terminal, and with the terminal gone its output
        thread can block that exit forever. So: stdio to /dev/null, stop the recorder and
        wait for it (perf finalizes, the manifest is written), stop any child still
        registered, and end the process without touching the terminal again.
        """
        if self.quitting:
            return
        self.quitting = True
        self.detach_terminal()
        try:
            await self.stop_recording()
        finally:
            lifecycle.REGISTRY.stop_all(grace=2.0)
            self.end_process(128 + signal.SIGHUP)

    async def on_unmount(self) -> None:
        """Last line of defence: whatever ended the app, the recorder is stopped."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        for session in self.sessions:
            if session.ended is None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(session.recorder.stop(), STOP_TIMEOUT_S)
