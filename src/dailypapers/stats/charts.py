"""Geometry of the server-rendered SVG charts on /stats (the templates draw it).

No JavaScript and no style attributes (a strict CSP refuses them): shapes carry classes
that site.css colours, so the charts follow the light or dark theme.
"""

import math
from dataclasses import dataclass

WIDTH = 720  # the viewBox; the SVG scales to its box
COLUMN_HEIGHT = 220
LEFT = 44  # room for the value axis labels
BOTTOM = 22  # room for the date labels
TOP_PAD = 8
ROW = 26  # height of a row of a horizontal bar chart
LABEL = 230  # width of its label column


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
    """A column chart of `values` (one per label): columns, value ticks, date labels."""
    top = nice_ceiling(max(values, default=0))
    plot = height - BOTTOM - TOP_PAD
    step = (WIDTH - LEFT) / max(len(values), 1)
    gap = min(step * 0.2, 2)
    shapes = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar = plot * value / top
        x = LEFT + index * step
        shapes.append(Column(round(x + gap / 2, 1), round(TOP_PAD + plot - bar, 1),
                             round(step - gap, 1), round(bar, 1), label))  # fmt: skip
    ticks = [Tick(round(TOP_PAD + plot * (1 - share), 1),
                  round(TOP_PAD + plot * (1 - share) + 4, 1), _short(top * share))
             for share in (0, 0.5, 1)]  # fmt: skip
    return {
        "columns": shapes,
        "ticks": ticks,
        "height": height,
        "width": WIDTH,
        "left": LEFT,
        "base": TOP_PAD + plot,
        "label_y": height - 6,
    }


def date_labels(days, labels=7):
    """(x, text) of about `labels` days spread under a column chart of len(days) columns."""
    step = (WIDTH - LEFT) / max(len(days), 1)
    every = max(math.ceil(len(days) / labels), 1)
    return [(round(LEFT + index * step, 1), f"{day:%b %-d}")
            for index, day in enumerate(days) if index % every == 0]  # fmt: skip


def bars(rows):
    """A horizontal bar chart of [(label, value, extra text)], longest bar = most room."""
    top = max((value for _, value, _ in rows), default=0) or 1
    room = WIDTH - LABEL - 60
    shapes = [Bar(index * ROW, round(max(room * value / top, 1), 1), label, value, extra)
              for index, (label, value, extra) in enumerate(rows)]  # fmt: skip
    return {
        "bars": shapes,
        "height": max(len(rows), 1) * ROW,
        "width": WIDTH,
        "label": LABEL,
        "text_y": ROW / 2 + 5,
        "bar_height": ROW - 8,
    }


def _short(number):
    if number >= 1_000_000:
        return f"{number / 1_000_000:g}M"
    if number >= 1_000:
        return f"{number / 1_000:g}k"
    return f"{number:g}"
