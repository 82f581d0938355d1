"""Rich cells for numbers (sorting by the raw value) and the TUI-only shapes (size, elapsed,
bars); the number texts come from `vmexit_tui.formats.numbers`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text

from vmexit_tui.formats import numbers

UNKNOWN = numbers.UNKNOWN
ABSENT = numbers.ABSENT
_BARS = "▁▂▃▄▅▆▇█"
_BAR_AT = _BARS + _BARS[-1]  # by index, without a bound check per value


class NumberText(Text):
    """A cell that shows a formatted number but sorts by the raw value (None sorts last).

    It renders as one pre-justified segment: a table cell never wraps, and Text's general
    wrap-and-justify path was most of the cost of repainting a live table.
    """

    __slots__ = ("value",)

    def __init__(self, display: str, value: float | str | None, style: str = "") -> None:
        if not display.isprintable():  # control codes: Text strips them
            super().__init__(display, style=style, justify="right", no_wrap=True, overflow="crop")
        else:  # what Text.__init__ does, without its control-code scan (hot: ~1,500 a second)
            self._text = [display]
            self.style = style
            self.justify = "right"
            self.overflow = "crop"
            self.no_wrap = True
            self.end = "\n"
            self.tab_size = None
            self._spans = []
            self._length = len(display)
        self.value = value

    def line(self, width: int) -> str:
        """The text cut or padded to exactly `width` cells, justified."""
        plain = self.plain
        size = cell_len(plain)
        if size > width:
            return set_cell_size(plain, width)
        pad = " " * (width - size)
        return plain + pad if self.justify == "left" else pad + plain

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        style = console.get_style(self.style) if isinstance(self.style, str) else self.style
        yield Segment(self.line(options.max_width), style)

    def __lt__(self, other: object) -> bool:
        if isinstance(other, NumberText):
            return sort_key(self.value) < sort_key(other.value)
        return NotImplemented


def sort_key(value: float | str | None) -> tuple[int, float | str]:
    """Known values before unknown ones; never compares None with a number."""
    if value is None:
        return (1, 0.0)
    return (0, value)


# The numbers themselves follow `vmexit_tui.formats.numbers` (one rule per quantity, the same
# as the CLI and the exports); these names are what the widgets call.


def count(n: int | None) -> str:
    """A sample count in a narrow column: exact up to 99,999, then "123k", "1.23M"."""
    return numbers.count(n, short=True)


pct = numbers.percent
us = numbers.us  # always µs, the column title says so
us_short = numbers.us
us_unit = numbers.duration  # the unit written beside the value
rate = numbers.rate
spread = numbers.spread


def spread_short(value: float | None, below: float | None = None) -> str:
    """`spread` without its "±" and "%" (the column title says so): "1.27", "<5"."""
    return numbers.spread(value, below, short=True)


def size(n: int) -> str:
    step = 1024.0
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < step:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= step
    return f"{value:.1f} TiB"


def elapsed(seconds: float) -> str:
    s = max(int(seconds), 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def text_size(text: str) -> int:
    """Cells of `text` (most cells are ASCII: no table lookup)."""
    return len(text) if text.isascii() else cell_len(text)


def bars(values: Sequence[float | None], width: int = 12) -> str:
    """A tiny text sparkline of the last `width` values, scaled to their own range."""
    tail = list(values)[-width:]
    known = [v for v in tail if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    if span <= 0:
        flat = _BARS[0] if high == 0 else _BARS[3]
        return "".join(" " if v is None else flat for v in tail).rjust(width)
    n = len(_BARS)  # the highest value lands on index n: the top bar, as does n - 1
    line = "".join([" " if v is None else _BAR_AT[int((v - low) / span * n)] for v in tail])
    return line.rjust(width)


def _middle_cut(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    keep = max(width - 1, 0)
    head = keep // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :] if keep else "…"


def path_lines(path: str | Path, width: int) -> list[str]:
    """A path as lines of at most `width` cells that never break inside a word: the file
    name (broken after "-", "_" or "." when long), then "in" and its folder ("~" for home;
    leading folders dropped as "…/")."""
    p = Path(path)
    folder = str(p.parent)
    home = str(Path.home())
    if folder == home or folder.startswith(home + os.sep):
        folder = "~" + folder[len(home) :]
    parts = folder.split(os.sep)
    shown = "in " + folder + os.sep
    while cell_len(shown) > width and len(parts) > 1:
        parts = parts[1:]
        shown = "in …" + os.sep + os.sep.join(parts) + os.sep
    return [*_name_lines(p.name, width), _middle_cut(shown, width)]


def _name_lines(name: str, width: int) -> list[str]:
    """A file name on lines of at most `width`, broken only after "-", "_" or "."."""
    lines = [""]
    for token in re.split(r"(?<=[-_.])", name):
        if lines[-1] and cell_len(lines[-1] + token) > width:
            lines.append("")
        lines[-1] += token
    return [_middle_cut(line, width) for line in lines if line]


def toast_width(screen_width: int) -> int:
    """The text width of a Textual toast: 60 cells, at most half of its rack (the screen less
    the rack's scrollbar and the holder's gutter, 8 cells), less padding and border (3)."""
    return max(min(60, (screen_width - 8) // 2) - 3, 10)


def saved_message(what: str, path: str | Path, screen_width: int) -> str:
    """The "saved" toast: a path on lines of its own, never broken inside a word."""
    width = toast_width(screen_width)
    return "\n".join([f"Saved {what} snapshot", *path_lines(path, width)])
