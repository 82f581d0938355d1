"""How numbers look on screen: short, aligned, and "-" for a value that is not known."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

UNKNOWN = "-"
_BARS = "▁▂▃▄▅▆▇█"


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

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
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


def count(n: int | None) -> str:
    """A sample count: exact up to 99,999, then k/M/G."""
    if n is None:
        return UNKNOWN
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e5, "k")):
        if abs(n) >= limit:
            return f"{n / (limit if suffix != 'k' else 1e3):.1f}{suffix}"
    return f"{n:,}"


def pct(value: float | None, digits: int = 2) -> str:
    return UNKNOWN if value is None else f"{value:.{digits}f}"


def us(value: float | None) -> str:
    """Microseconds, switching to ms and s when large."""
    if value is None or math.isnan(value):
        return UNKNOWN
    if value >= 1e6:
        return f"{value / 1e6:.2f}s"
    if value >= 1e4:
        return f"{value / 1e3:.1f}ms"
    return f"{value:.2f}"


def us_short(value: float | None) -> str:
    """Microseconds in at most 6 characters (4 significant digits), for narrow columns:
    "0.51", "583.7", "3039", "58.4ms", "584ms", "1.5s"."""
    if value is None or math.isnan(value):
        return UNKNOWN
    for limit, scale, digits, unit in _SHORT_US:
        if value < limit:
            return f"{value / scale:.{digits}f}{unit}"
    return f"{value / 1e6:.0f}s"


_SHORT_US = (
    (99.995, 1, 2, ""),
    (999.95, 1, 1, ""),
    (9_999.5, 1, 0, ""),
    (99_950, 1e3, 1, "ms"),
    (999_500, 1e3, 0, "ms"),
    (99_950_000, 1e6, 1, "s"),
)


def us_unit(value: float | None) -> str:
    """Like `us`, with the unit always written out ("0.48 µs", "528.6 ms")."""
    shown = us(value)
    if shown == UNKNOWN:
        return shown
    if shown.endswith("ms"):
        return f"{shown[:-2]} ms"
    if shown.endswith("s"):
        return f"{shown[:-1]} s"
    return f"{shown} µs"


def rate(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    if value >= 1e4:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def spread(value: float | None, below: float | None = None) -> str:
    """perf's ± relative spread of the mean; "<x" when only a bound is known."""
    if value is not None:
        return f"±{value:.2f}%"
    if below is not None:
        return f"<{below:g}%"
    return UNKNOWN


def spread_short(value: float | None, below: float | None = None) -> str:
    """`spread` without its "±" and "%" (the column title says so): "1.27", "<5"."""
    if value is not None:
        return (
            f"{value:.2f}" if value < 9.995 else f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
        )
    if below is not None:
        return f"<{below:g}"
    return UNKNOWN


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


def bars(values: Sequence[float | None], width: int = 12) -> str:
    """A tiny text sparkline of the last `width` values, scaled to their own range."""
    tail = list(values)[-width:]
    known = [v for v in tail if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in tail:
        if v is None:
            out.append(" ")
        elif span <= 0:
            out.append(_BARS[0] if high == 0 else _BARS[3])
        else:
            out.append(_BARS[min(int((v - low) / span * len(_BARS)), len(_BARS) - 1)])
    return "".join(out).rjust(width)
