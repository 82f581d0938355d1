"""Why the lab cannot run, or why L1 did not come up."""

from __future__ import annotations


class LabUnavailable(Exception):
    """The lab cannot run on this machine (no qemu, no kernel package, a bad cache folder...)."""


class LabBootError(Exception):
    """L1 did not come up, or died: the message ends with the tail of its console log."""


class LabCrashed(LabBootError):
    """L1 died or stopped responding during a job (seen: a reset, a soft lockup under TCG)."""


class LabGaveUp(LabBootError):
    """The session's lab budget (time, or crashes of L1) is spent: later jobs fail at once."""
