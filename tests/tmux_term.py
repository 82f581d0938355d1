"""A real terminal for end-to-end tests: a private tmux server running one command.

Each `TmuxTerm` starts its own tmux server (`-L` socket name) so tests never touch a user's
tmux, and `close()` kills that server and every process left in its panes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence

import psutil

TMUX = shutil.which("tmux")


def _zombie_exit_status(pid: int) -> int | None:
    """The exit status of a process that has exited but is not yet reaped, else None.

    Field 52 of /proc/PID/stat is the status as waitpid(2) would report it.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] != "Z" or len(fields) < 50:
        return None
    raw = int(fields[49])
    return -(raw & 0x7F) if raw & 0x7F else (raw >> 8) & 0xFF


def still_running(procs: list[psutil.Process], timeout: float = 5.0) -> list[psutil.Process]:
    """Those of `procs` still running after `timeout` (an exited, unreaped zombie is not)."""
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    running = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                running.append(p)
        except psutil.NoSuchProcess:
            pass
    return running


class TmuxTerm:
    """One tmux pane of a given size running `argv`; keys in, screen text out."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        width: int = 100,
        height: int = 30,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        if TMUX is None:
            raise RuntimeError("tmux is not installed (apt-get install tmux)")
        self.socket = f"vmexit-e2e-{uuid.uuid4().hex[:8]}"
        self.target = "e2e:0.0"
        full_env = {**os.environ, **(env or {})}
        # tmux passes its own environment to the pane; the command gets `env` explicitly
        env_args = [f"{k}={v}" for k, v in (env or {}).items()]
        self._tmux(
            "new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height),
            *(["-c", cwd] if cwd else []),
            "env", *env_args, *argv,
            env=full_env,
        )  # fmt: skip
        self._tmux("set-option", "-t", "e2e", "remain-on-exit", "on")
        self.pane_pid = int(self._tmux("display-message", "-p", "-t", self.target, "#{pane_pid}"))

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            [TMUX, "-L", self.socket, *args],  # type: ignore[list-item]
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
        )
        if out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def send(self, *keys: str) -> None:
        """Send tmux key names (`q`, `Enter`, `Down`, `C-c`...)."""
        self._tmux("send-keys", "-t", self.target, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def wait_for(self, predicate: str | Callable[[str], bool], timeout: float = 15.0) -> str:
        """Poll the screen until `predicate` (a substring or a function) holds; return it."""
        check = (lambda s: predicate in s) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {predicate!r}; screen was:\n{screen}")

    def pane_dead(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.target, "#{pane_dead}") == "1"

    def wait_exit(self, timeout: float = 15.0) -> int:
        """Wait for the command to end: its exit status, or -N when signal N killed it.

        tmux marks the pane dead at end of file on the pty and records the status once it has
        reaped the process, a moment later: poll for both.
        """
        deadline = time.monotonic() + timeout
        fmt = "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}"
        while time.monotonic() < deadline:
            dead, *rest = self._tmux("display-message", "-p", "-t", self.target, fmt).split()
            if dead == "1" and rest:
                status = int(rest[0])
                return -int(rest[1]) if len(rest) > 1 and rest[1] != "0" else status
            zombie = _zombie_exit_status(self.pane_pid)
            if zombie is not None:  # exited; tmux has not reaped it yet (seen: it may never)
                return zombie
            time.sleep(0.1)
        raise AssertionError(f"the command did not exit within {timeout} s:\n{self.screen()}")

    def descendants(self) -> list[psutil.Process]:
        """Processes still running under the pane."""
        try:
            return psutil.Process(self.pane_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def hang_up(self) -> None:
        """Kill the tmux server only, as a dropped SSH session does: the pane gets SIGHUP."""
        subprocess.run(
            [TMUX, "-L", self.socket, "kill-server"],  # type: ignore[list-item]
            capture_output=True,
            timeout=20,
        )

    def close(self) -> None:
        """Kill the tmux server and anything left in the pane."""
        leftover = self.descendants()
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.append(psutil.Process(self.pane_pid))
        subprocess.run(
            [TMUX, "-L", self.socket, "kill-server"],  # type: ignore[list-item]
            capture_output=True,
            timeout=20,
        )
        for p in leftover:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(leftover, timeout=5)

    def __enter__(self) -> TmuxTerm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
