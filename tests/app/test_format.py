"""NumberText: a Text in every attribute Rich reads, built without Text's control-code scan."""

from __future__ import annotations

import pytest
from rich.text import Text

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
