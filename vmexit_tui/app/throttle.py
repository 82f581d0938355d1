"""At most one call per interval: the throttle the compare pane and the charts share."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.dom import DOMNode


class Throttle:
    """`throttle()` runs `action` now, or, when it ran less than `every_s` ago, once later
    (on a timer of `owner`, after `grace` more seconds); calls meanwhile are merged.
    `run()` runs it now whatever the time. The compare pane and the charts use it."""

    def __init__(
        self,
        owner: DOMNode,
        every_s: float,
        action: Callable[[], None],
        *,
        grace: float = 0.0,
        early: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.owner = owner
        self.every_s = every_s
        self.action = action
        self.grace = grace
        self.early = early  # a run due within this fraction of `every_s` is done now
        self.clock = clock
        self.last = float("-inf")
        self.pending = False

    @property
    def wait(self) -> float:
        """Seconds until `action` may run again (<= 0: now)."""
        return self.last + self.every_s - self.clock()

    def __call__(self) -> None:
        wait = self.wait
        if wait > self.every_s * self.early:
            if not self.pending:
                self.pending = True
                self.owner.set_timer(wait + self.grace, self._fire)
            return
        self.run()

    def run(self) -> None:
        """Run `action` now, whatever the time; the interval counts from its end."""
        self.action()
        self.last = self.clock()

    def reset(self) -> None:
        """Forget the last run: the next call runs at once."""
        self.last = float("-inf")

    def _fire(self) -> None:
        self.pending = False
        self.run()
