"""NumberText: a Text in every attribute Rich reads, built without Text's control-code scan."""

from __future__ import annotations

import pytest
from rich.text import Text

from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText


@pytest.mark.parametrize("display", ["12.3", " EPT_VIOLATION", "", "▲0.48", " a\x1bb\x07"])
def test_number_text_has_the_attributes_text_would_give_it(display):
    cell = NumberText(display, 1.0, "bold")
    text = Text(display, style="bold", justify="right", no_wrap=True, overflow="crop")
    assert [getattr(cell, k) for k in Text.__slots__] == [getattr(text, k) for k in Text.__slots__]
    assert cell.value == 1.0


def test_number_text_line_is_justified_and_cut_to_the_width():
    right = NumberText("1,234", 1234)
    left = NumberText("REASON", "REASON")
    left.justify = "left"
    assert right.line(7) == "  1,234"
    assert left.line(8) == "REASON  "
    assert right.line(3) == "1,2"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.514, "0.51"),
        (99.99, "99.99"),
        (583.71, "583.7"),
        (3039.1, "3039"),
        (58_412.0, "58412"),
        (583_700.0, "583700"),
        (1_500_000.0, "1500000"),
        (None, "?"),
        (float("nan"), "?"),
    ],
)
def test_us_short_stays_in_microseconds(value, shown):
    """Under a µs header a time never switches to ms (issue 14.6)."""
    assert fmt.us_short(value) == shown
    assert "ms" not in shown and not shown.endswith("s")


def test_spread_short_drops_the_sign_and_unit():
    assert fmt.spread_short(1.274) == "1.27"
    assert fmt.spread_short(14.34) == "14.34"
    assert fmt.spread_short(None, 5.0) == "<5"
    assert fmt.spread_short(None) == "?"


def test_saved_message_puts_the_path_on_lines_that_fit_the_toast():
    """Issue 14.7: the save toast broke a path mid-word."""
    path = "/srv/data/share/vmexit-tui/snapshots/2026-11-26T21-44-03-simulated-gp-rt-bind.json"
    text = fmt.saved_message("run", path, 80)
    width = fmt.toast_width(80)
    assert width == 33  # a toast is 60 cells, at most half its rack, less padding and border
    lines = text.splitlines()
    assert lines == [
        "Saved run snapshot",
        "2026-11-26T21-44-03-simulated-gp-",
        "rt-bind.json",
        "in …/share/vmexit-tui/snapshots/",
    ]
    assert all(len(line) <= width for line in lines)
    wide = fmt.saved_message("run", path, 200).splitlines()
    assert wide[1] == "2026-11-26T21-44-03-simulated-gp-rt-bind.json"
    assert wide[2] == "in /srv/data/share/vmexit-tui/snapshots/"


def test_path_lines_use_tilde_for_home():
    from pathlib import Path

    assert fmt.path_lines(Path.home() / "snaps" / "a.json", 40) == ["a.json", "in ~/snaps/"]


def test_bars_scale_to_their_own_range_lowest_to_top():
    assert fmt.bars([0, 1, 2, 3, 4, 5, 6, 7, 8], 9) == "▁▂▃▄▅▆▇██"
    assert fmt.bars([10.0, 20.0], 4) == "  ▁█"  # right-aligned, the max is the top bar


def test_bars_keep_gaps_flat_lines_and_only_the_last_width_values():
    assert fmt.bars([None, 5.0, None, 7.0], 4) == " ▁ █"
    assert fmt.bars([3.0, None, 3.0], 3) == "▄ ▄"  # flat: the middle bar
    assert fmt.bars([0.0, 0.0], 2) == "▁▁"  # flat at zero: the lowest
    assert fmt.bars([100.0, 1.0, 2.0], 2) == "▁█"
    assert fmt.bars([None, None], 4) == ""


def test_text_size_counts_cells_not_characters():
    assert fmt.text_size("1,234") == 5 and fmt.text_size("") == 0
    assert fmt.text_size("▁▂█") == 3 and fmt.text_size("µs") == 2
    assert fmt.text_size("表") == 2  # a wide character: two cells
