"""The curation tests' history: three weeks of announcement days and their daily pages."""

import datetime as dt

import pytest

from dailypapers.papers.models import DailyEntry, Paper

START = dt.date(2025, 11, 3)  # a Monday
DAYS = [
    START + dt.timedelta(days=n) for n in range(21) if (START + dt.timedelta(days=n)).weekday() < 5
]
TOPICS = [
    "graph coloring",
    "sparse solvers",
    "protein folding",
    "crop yields",
    "tax policy",
    "bird songs",
    "compilers",
    "ocean tides",
    "chess engines",
    "river deltas",
]


def paper(arxiv_id, day, title, authors, **fields):
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return Paper.objects.create(
        arxiv_id=arxiv_id,
        title=title,
        published_at=noon,
        abstract=f"We study {title}.",
        authors=[{"name": name} for name in authors],
        categories=["cs.LG"],
        primary_category="cs.LG",
        **fields,
    )


def make_history():
    """Each announcement day: 20 papers; the 2 by the Lovelace lab about diffusion language
    models are featured that day (with upvotes), the others never."""
    for n, day in enumerate(DAYS):
        for i in range(20):
            ours = i < 2
            title = f"diffusion language models part {n}.{i}" if ours else TOPICS[i % 10] + f" {n}"
            authors = ["Ada Lovelace", f"Student {n}"] if ours else [f"Someone {n}-{i}"]
            p = paper(f"2511.{n:02d}{i:03d}", day, title, authors, imported_upvotes=30 * ours)
            if ours:
                noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
                DailyEntry.objects.create(paper=p, day=day, submitted_at=noon)
    return DAYS


@pytest.fixture
def history(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return make_history()
