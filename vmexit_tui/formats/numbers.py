"""The one formatting rule per quantity, shared by the CLI, the exports and the TUI.

Symbols (the same everywhere; the plain tables print this legend, see `LEGEND`):

- ``?``  a value that is not known (perf did not print it, or printed it illegibly).
- ``–``  no exits of that reason in that run (perf lists every reason it saw), so there is
  nothing to show; never used for "unknown".
- ``±<x%`` a spread known only as an upper bound (a pager cut perf's column off);
  ``<x`` in a column whose title already says "±%".

Rules, each with the significant digits that fit the quantity:

- **count**: exact integer, no separators ("2306", "99999"); ``short`` abbreviates from
  100,000 to 3 significant digits with k/M/G ("123k", "1.23M").
- **rate** (per second): whole numbers from 1/s ("2306", "9"); below 1/s two significant
  digits, so a rare reason never reads 0 ("0.16", "0.0028"); below 0.001 "<0.001"; 0 is "0".
  From 100,000/s: "123k".
- **µs**: always microseconds, so a column titled µs never changes unit: two decimals below
  100 (perf's resolution, "0.51", "58.40"), one below 1,000 ("583.7"), whole from 1,000
  ("3039", "131000": never "131ms" under a µs header).
  `duration` writes the unit with the value and may use ms or s ("131 ms").
- **percent** (share, time%): two decimals ("45.12"); a non-zero value below 0.005 is "<0.01".
- **pp** (percentage points): signed, two decimals, with the unit ("+1.23 pp"); anything
  that rounds to zero is "0.00 pp" (never "-0.00 pp").
- **change** (relative, %): signed whole per cent ("+12%", "-3%"), "0%" when it rounds to 0.
- **spread** (perf's relative spread of the mean): "±" and two decimals, perf's own resolution
  ("±0.37%", not "±0.373273%"; "±15.94%"); a bound is "±<5%".
- **run labels**: the seed's built-in runs are upper case everywhere ("GP-RT-RAW"); other
  labels are shown as given.
"""

from __future__ import annotations

import math

from vmexit_tui.reference.seed_runs import NAMES as _BUILTIN_RUNS

UNKNOWN = "?"
ABSENT = "–"
LEGEND = (
    f"{UNKNOWN} = not known · {ABSENT} = no exits of that reason in that run · "
    "±<x% = spread cut off by a pager (an upper bound)"
)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _abbrev(value: float) -> str:
    """3 significant digits with k/M/G, for values from 1e5 ("123k", "1.23M", "12.3G")."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale * 0.9995 or suffix == "k":
            scaled = value / scale
            if abs(round(scaled)) >= 100:
                return f"{scaled:.0f}{suffix}"
            if abs(round(scaled, 1)) >= 10:
                return f"{scaled:.1f}{suffix}"
            return f"{scaled:.2f}{suffix}"
    raise AssertionError("unreachable")


def count(n: int | None, *, short: bool = False) -> str:
    """A sample count: exact; `short` abbreviates from 100,000 ("123k")."""
    if n is None:
        return UNKNOWN
    if short and abs(n) >= 100_000:
        return _abbrev(float(n))
    return str(int(n))


def rate(value: float | None) -> str:
    """Exits per second: whole from 1/s, two significant digits below, "123k" from 1e5."""
    if _missing(value):
        return UNKNOWN
    assert value is not None
    if value < 0:
        return "-" + rate(-value)
    if value == 0:
        return "0"
    if value >= 99_999.5:
        return _abbrev(value)
    if value >= 0.995:
        return f"{value:.0f}"
    if value < 0.001:
        return "<0.001"
    digits = 1 - math.floor(math.log10(value))
    return f"{value:.{digits}f}"


def us(value: float | None) -> str:
    """A time in µs, without unit, never in another unit ("0.51", "583.7", "3039", "131000")."""
    if _missing(value):
        return UNKNOWN
    assert value is not None
    if abs(value) < 99.995:
        return f"{value:.2f}"
    if abs(value) < 999.95:
        return f"{value:.1f}"
    return f"{value:.0f}"


def duration(value_us: float | None) -> str:
    """A time with its unit written out, in µs, ms or s ("0.48 µs", "583.7 µs", "131 ms")."""
    if _missing(value_us):
        return UNKNOWN
    assert value_us is not None
    if abs(value_us) < 9_999.5:
        return f"{us(value_us)} µs"
    if abs(value_us) < 999_950:
        return f"{us(value_us / 1e3)} ms"
    return f"{us(value_us / 1e6)} s"


def percent(value: float | None, digits: int = 2) -> str:
    """A share or time% without the sign: two decimals, "<0.01" for a tiny non-zero value.

    `digits` is for a narrow column that shows fewer decimals ("41.0", "<0.1").
    """
    if _missing(value):
        return UNKNOWN
    assert value is not None
    step = 10.0**-digits
    if 0 < value < step / 2:
        return f"<{step:.{digits}f}"
    return f"{value:.{digits}f}"


def pp(value: float | None, *, unit: bool = True) -> str:
    """A change in percentage points: "+1.23 pp"; never "-0.00 pp"."""
    if _missing(value):
        return UNKNOWN
    assert value is not None
    shown = "0.00" if round(value, 2) == 0 else f"{value:+.2f}"
    return f"{shown} pp" if unit else shown


def change(value: float | None) -> str:
    """A relative change in per cent: "+12%", "-3%", "0%"."""
    if _missing(value):
        return UNKNOWN
    assert value is not None
    if math.isinf(value):
        return "new" if value > 0 else UNKNOWN
    return "0%" if round(value) == 0 else f"{value:+.0f}%"


def spread(value: float | None, below: float | None = None, *, short: bool = False) -> str:
    """perf's ± relative spread of the mean ("±0.37%"), "±<5%" when only a bound is known.

    `short` is for a column titled "±%": no "±" and no "%" ("0.37", "<5").
    """
    if not _missing(value):
        assert value is not None
        shown = f"{value:.2f}"
        return shown if short else f"±{shown}%"
    if not _missing(below):
        assert below is not None
        shown = f"<{below:g}"
        return shown if short else f"±{shown}%"
    return UNKNOWN


def run_label(name: str) -> str:
    """How a run is named on screen: the seed's built-in runs upper case ("GP-RT-RAW")."""
    return name.upper() if name.lower() in _BUILTIN_RUNS else name
