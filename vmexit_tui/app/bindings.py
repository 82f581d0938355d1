"""Every key of the app in one table: the App's bindings, when each applies, and the help.

To add a key: add a `Key` row here (its `action` is an `action_*` method of the App) and,
when it applies only on one tab or only while recording, give it that `when`. The footer,
`check_action` and the help screen (`?`) all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.binding import Binding


class When(StrEnum):
    """Where a key applies (and shows in the footer)."""

    ALWAYS = "always"
    LIVE = "live"  # the live tab is shown
    COMPARE = "compare"  # the compare pane is shown
    RECORDING = "recording"  # a recording is running
    IDLE = "idle"  # no recording is running
    DEMO_OFFERED = "demo-offered"  # real sources, and a demo to switch to


@dataclass(frozen=True, slots=True)
class Key:
    key: str
    action: str
    label: str
    help: str
    when: When = When.ALWAYS
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.label,
            show=self.show,
            tooltip=self.help,
            priority=self.priority,
        )


KEYS: tuple[Key, ...] = (
    Key("space", "toggle_record", "Record", "Start recording the selected VM", When.IDLE),
    Key("space", "stop_record", "Stop", "Stop the recording", When.RECORDING),
    Key("s", "live('sort_next')", "Sort", "Sort the live table by the next column", When.LIVE),
    Key("S", "live('sort_previous')", "Sort back", "Sort the live table by the previous column",
        When.LIVE, show=False),
    Key("r", "live('reverse')", "Rev", "Reverse the sort order of the live table", When.LIVE),
    Key("m", "mark", "Mark", "Mark this moment in the series", When.RECORDING),
    Key("e", "cycle_kind", "Event", "Switch the table: vmexit / mmio / ioport", When.LIVE),
    Key("t", "live('toggle_trend')", "Trend", "Trends and chart: rate or mean time", When.LIVE),
    Key("v", "live('toggle_vcpus')", "vCPUs",
        "The live table by reason, or by vCPU (top reasons, CPUs, scheduling)", When.LIVE,
        show=False),
    Key("z", "toggle_zero", "Zero", "Chart's rate axis: from zero, or fitted to the data",
        When.LIVE, show=False),
    Key("o", "open_run", "Add run", "Pick a run or a snapshot for the compare pane",
        When.COMPARE),
    Key("x", "remove_run", "Drop run", "Remove the last run from the compare pane",
        When.COMPARE),
    Key("b", "cycle_baseline", "Baseline", "Make the next run of the compare pane the baseline",
        When.COMPARE, show=False),
    Key("w", "save_snapshot", "Save",
        "Save a snapshot: the current run, or the comparison when the compare pane is shown"),
    Key("d", "demo", "Demo", "Switch to the built-in demo (simulated VMs)", When.DEMO_OFFERED),
    Key("1", "show_tab('vms')", "VMs", "Show the VM list", show=False),
    Key("2", "show_tab('live')", "Live", "Show the live exit table", show=False),
    Key("3", "show_tab('compare')", "Compare", "Show the compare pane", show=False),
    Key("question_mark", "help", "Help", "This help"),
    Key("q", "quit", "Quit", "Quit (stops any recording cleanly first)"),
    Key("ctrl+q", "quit", "Quit", "Quit", show=False, priority=True),
)  # fmt: skip

WHEN = {k.action.split("(")[0]: k.when for k in KEYS}  # `check_action` gets the bare name

# Keys that widgets handle themselves, listed in the help only.
MORE_HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Live exit table",
        (
            ("enter", "Details of the reason: meaning, chart, min/mean/max"),
            ("click header", "Sort by that column"),
        ),
    ),
    ("VM list", (("enter", "Record the selected VM"), ("up/down", "Select a VM"))),
    (
        "Compare pane",
        (("tab", "Move between the table and the findings (arrows scroll the findings)"),),
    ),
    (
        "Screens",
        (
            ("tab / shift+tab", "Move the focus"),
            ("esc", "Close help, details or the picker"),
        ),
    ),
)


def bindings() -> list[Binding]:
    return [k.binding() for k in KEYS]


def help_sections() -> list[tuple[str, list[Binding | tuple[str, str]]]]:
    """The help screen's sections: every key of the table, then the widgets' own keys."""
    everywhere: list[Binding | tuple[str, str]] = []
    seen: set[str] = set()
    for k in KEYS:
        if k.key == "space" and k.key in seen:
            continue
        seen.add(k.key)
        help_text = (
            "Start recording the selected VM, or stop the recording"
            if (k.key == "space")
            else k.help
        )
        everywhere.append((_key_name(k.key), help_text))
    return [("Everywhere", everywhere)] + [(title, list(rows)) for title, rows in MORE_HELP]


def _key_name(key: str) -> str:
    return {"question_mark": "?", "escape": "esc"}.get(key, key)
