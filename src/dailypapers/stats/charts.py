"""Geometry of the server-rendered SVG charts on /stats (the templates draw it).

No JavaScript and no style attributes (a strict CSP refuses them): shapes carry classes
that site.css colours, so the charts follow the light or dark theme.

The charts have no viewBox, so nothing scales their text: labels are drawn at their CSS
size (12-13 px) on a 360 px phone as on a desktop. Across, shapes are placed in percent of
the chart's width; down, in pixels. Room for the labels beside a chart (the value axis,
the bar names on a wide screen) is the SVG's margin in site.css, drawn into with
`overflow: visible`.
"""

import math
from dataclasses import dataclass

COLUMN_HEIGHT = 220
BOTTOM = 22  # room for the date labels
TOP_PAD = 8
ROW = 26  # height of a row of a horizontal bar chart
BAR_ROOM = 85  # percent of the width the longest bar takes; its number goes after it
PHONE_DATES = 5  # date labels a 360 px phone has room for under a column chart
GAP = 0.3  # percent of the width between columns, at most a fifth of a column


@dataclass
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str  # what <title> says on hover


@dataclass
class Tick:
    y: float
    text_y: float
    text: str


@dataclass
class Bar:
    y: float
    width: float
    label: str
    value: int
    extra: str


def nice_ceiling(value):
    """The round number (1, 2, 2.5 or 5 times a power of ten) at or above value."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def columns(values, labels, *, height=COLUMN_HEIGHT):
    """A column chart of `values` (one per label): columns (x and width in percent), value
    ticks, date labels."""
    top = nice_ceiling(max(values, default=0))
    plot = height - BOTTOM - TOP_PAD
    step = 100 / max(len(values), 1)
    gap = min(step * 0.2, GAP)
    shapes = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar = plot * value / top
        x = index * step
        shapes.append(Column(round(x + gap / 2, 3), round(TOP_PAD + plot - bar, 1),
                             round(step - gap, 3), round(bar, 1), label))  # fmt: skip
    ticks = [Tick(round(TOP_PAD + plot * (1 - share), 1),
                  round(TOP_PAD + plot * (1 - share) + 4, 1), _short(top * share))
             for share in (0, 0.5, 1)]  # fmt: skip
    return {
        "columns": shapes,
        "ticks": ticks,
        "height": height,
        "base": TOP_PAD + plot,
        "label_y": height - 6,
    }


@dataclass
class DateLabel:
    x: float  # percent: the middle of its column (the first: its left edge)
    anchor: str  # the first starts at its column, clear of the value axis' "0"
    text: str
    minor: bool  # every other label, left out on a phone (site.css) so none overlap


def date_labels(days, labels=7):
    """About `labels` days spread under a column chart of len(days) columns."""
    step = 100 / max(len(days), 1)
    every = max(math.ceil(len(days) / labels), 1)
    crowded = math.ceil(len(days) / every) > PHONE_DATES  # then a phone shows every other
    spread = []
    for index in range(0, len(days), every):
        text, minor = f"{days[index]:%b %-d}", crowded and index // every % 2 == 1
        if index == 0:
            spread.append(DateLabel(0, "start", text, minor))
        else:
            spread.append(DateLabel(round((index + 0.5) * step, 3), "middle", text, minor))
    return spread


def bars(rows):
    """A horizontal bar chart of [(label, value, extra text)], longest bar = BAR_ROOM
    percent of the width (bar widths in percent)."""
    top = max((value for _, value, _ in rows), default=0) or 1
    shapes = [Bar(index * ROW, round(max(BAR_ROOM * value / top, 0.5), 3), label, value, extra)
              for index, (label, value, extra) in enumerate(rows)]  # fmt: skip
    return {
        "bars": shapes,
        "height": max(len(rows), 1) * ROW,
        "text_y": ROW / 2 + 5,
        "bar_height": ROW - 8,
    }


def _short(number):
    if number >= 1_000_000:
        return f"{number / 1_000_000:g}M"
    if number >= 1_000:
        return f"{number / 1_000:g}k"
    return f"{number:g}"
