"""`render_lines` for a widget that draws and caches whole lines itself.

Textual's styles cache wraps every line of every widget in padding, borders, tint and
opacity, building a new Strip (and its caches) each time. The exit table draws each of its
lines complete (cells, stripes, cursor, padded to the view's width) and keeps them in its
own cache, and has none of those box styles: for it that wrapping is pure cost, about a
third of its frame time at 160x48 (bench/bench_app.py). `PlainLines` renders such a widget's
lines directly, with the app's line filters, and falls back to Textual's path as soon as
a box style applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    _Base = Widget
else:  # a mixin, not a Widget: Textual inherits default CSS along the first DOM base only
    _Base = object


class Line(Strip):
    """A Strip that is not kept in its own cache.

    The compositor divides every line at the cuts of the screen; when the only cut is the
    line's end, `Strip.divide` returns `[self]` and caches that in the strip itself: a
    reference cycle. A replaced line is then garbage that only the cyclic collector frees
    (585 objects per 70-reason update at 160x48: the young generation filled twice per
    frame, and the middle one's 2 ms collections landed in one frame out of five).
    """

    def divide(self, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        return super().divide(cuts)


Filters = tuple[tuple[LineFilter, Color], ...]  # the app's line filters, with the background


def filtered_style(style: Style, filters: Filters) -> Style:
    """`style` as the app's line filters make it: filter a widget's few styles once, instead
    of every line (a filtered line is a second Strip, with its caches)."""
    for line_filter, background in filters:
        style = line_filter.apply([Segment(" ", style)], background)[0].style or style
    return style


class PlainLines(_Base):
    """Mixed into a widget whose `render_line(y)` returns finished lines of the view's width."""

    def line_renderer(self, filters: Filters) -> Callable[[int], Strip]:
        """Draws line y of this frame through the app's line filters. A widget may look up
        once what all lines share, and filter its few styles instead of every line."""

        def render(y: int) -> Strip:
            strip = self.render_line(y)
            for line_filter, background in filters:
                strip = strip.apply_filter(line_filter, background)
            return strip

        return render

    def _plain(self) -> bool:
        s = self.styles
        return (
            not any(s.gutter)  # padding, border
            and not s.outline.spacing
            and not s.tint.a
            and s.opacity == 1
            and s.text_opacity == 1
            and (not s.has_rule("hatch") or s.hatch == "none")
            and not self.border_title
            and not self.border_subtitle
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        if not self._plain():
            return super().render_lines(crop)
        background = self.background_colors[1]
        filters = tuple((f, background) for f in self.get_line_filters())
        render_line = self.line_renderer(filters)
        lines = [render_line(y) for y in crop.line_range]
        if crop.column_span != (0, self.size.width):
            lines = [strip.crop(*crop.column_span) for strip in lines]
        return lines
