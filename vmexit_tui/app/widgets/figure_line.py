"""A line of figures ("samples 1,234   share 12.3%   …"): dim labels, bold values, wrapped
between figures and never inside one.

It is drawn straight to Strips. As a Static, through Textual's content pipeline, the two
lines of a reason's figures cost 0.7 ms of every frame of the live tab (they change on every
interval), as much as the forty lines of the exit table beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from vmexit_tui.app.format import text_size
from vmexit_tui.app.widgets.plain_lines import Filters, Line, PlainLines, filtered_style

Figure = tuple[str, str]  # label, value
GAP = "   "  # between two figures on a line


class FigureLine(PlainLines, Widget):
    """`show(figures)` or `show_note(text)`; as many lines as the figures need at the width."""

    DEFAULT_CSS = """
    FigureLine {
        height: auto;
        & > .figure-line--label { text-style: dim; }
        & > .figure-line--value { text-style: bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"figure-line--label", "figure-line--value"}

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._figures: tuple[Figure, ...] = ()
        self._note = ""
        self._wrapped: tuple[int, list[list[Figure]]] | None = None  # width: lines
        self._styles: dict[Filters, tuple[Style, Style, Style]] = {}

    @property
    def text(self) -> str:
        """What it says, as plain text (one line)."""
        if self._note:
            return self._note
        return GAP.join(f"{label} {value}" for label, value in self._figures)

    def show(self, figures: Sequence[Figure]) -> None:
        self._change(tuple(figures), "")

    def show_note(self, note: str) -> None:
        """A dim note instead of figures ("no samples yet")."""
        self._change((), note)

    def _change(self, figures: tuple[Figure, ...], note: str) -> None:
        if (figures, note) == (self._figures, self._note):
            return
        width = self.size.width
        before = len(self._lines(width)) if width else 0
        self._figures, self._note, self._wrapped = figures, note, None
        self.refresh(layout=bool(width) and len(self._lines(width)) != before)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def _lines(self, width: int) -> list[list[Figure]]:
        """The figures on lines of at most `width` cells, a figure never broken."""
        if self._wrapped is not None and self._wrapped[0] == width:
            return self._wrapped[1]
        lines: list[list[Figure]] = [[]]
        used = 0
        for label, value in self._figures:
            size = text_size(label) + 1 + text_size(value)
            if lines[-1] and used + len(GAP) + size > width:
                lines.append([])
                used = 0
            used += size + (len(GAP) if lines[-1] else 0)
            lines[-1].append((label, value))
        self._wrapped = (width, lines)
        return lines

    def render_line(self, y: int) -> Strip:
        return self.line_renderer(())(y)

    def line_renderer(self, filters: Filters) -> Callable[[int], Strip]:
        styles = self._styles.get(filters)
        if styles is None:
            base = self.rich_style
            styles = self._styles[filters] = (
                filtered_style(base, filters),
                filtered_style(base + self.get_component_rich_style("figure-line--label"), filters),
                filtered_style(base + self.get_component_rich_style("figure-line--value"), filters),
            )
        width = self.size.width
        return partial(self._line, width, self._lines(width), styles)

    def _line(
        self, width: int, lines: list[list[Figure]], styles: tuple[Style, ...], y: int
    ) -> Strip:
        base, label_style, value_style = styles
        segments: list[Segment] = []
        if self._note:
            if y == 0:
                segments.append(Segment(self._note, label_style))
        elif y < len(lines):
            for i, (label, value) in enumerate(lines[y]):
                if i:
                    segments.append(Segment(GAP, base))
                segments += Segment(label, label_style), Segment(" ", base)
                segments.append(Segment(value, value_style))
        length = sum(text_size(text) for text, _, _ in segments)
        if length > width:
            return Strip(segments, length).crop(0, width)
        return Line([*segments, Segment(" " * (width - length), base)], width)
