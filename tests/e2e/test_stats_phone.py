"""/stats on a phone, in a real browser: the charts' labels are drawn at a size a researcher
can read (11 px or more on a 360 px screen, in both themes), none overlaps another, and the
page is no wider than the screen; the desktop charts keep their size."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Organization

CHROMIUM = Path("/usr/bin/chromium")
SMALL_PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SMALLEST = 11  # px, as drawn on the screen

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="/usr/bin/chromium is missing (apt-get install chromium); CI always runs this",
    ),
]

# Every chart label on screen: its text, its font size as drawn (the CSS size times the
# SVG's scale on screen, the viewBox's included) and its box.
CHART_LABELS = """() => [...document.querySelectorAll("svg.chart text")]
  .filter((el) => el.getBoundingClientRect().width > 0)
  .map((el) => { const box = el.getBoundingClientRect(), m = el.getScreenCTM();
    return {chart: el.closest("svg").getAttribute("aria-labelledby").replace(/-title$/, ""),
            text: el.textContent.trim(), left: box.left, right: box.right, top: box.top,
            bottom: box.bottom,
            size: parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b)}; })"""


@pytest.fixture
def busy_site(make_paper):
    """Ninety days of papers, a few featured each week, with long organisation names."""
    today = timezone.localdate()
    orgs = [
        Organization.objects.create(name=f"org{n}", fullname=name)
        for n, name in enumerate(
            ["Massachusetts Institute of Technology", "Shanghai Artificial Intelligence Laboratory",
             "Acme Research"]
        )
    ]  # fmt: skip
    for n in range(120):
        day = today - dt.timedelta(days=n % 90)
        paper = make_paper(
            published_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
            categories=[["cs.CL", "cs.CV", "cs.LG", "stat.ML"][n % 4]],
            authors=[{"name": f"Researcher With A Long Name {n % 7}"}],
            organization=orgs[n % 3],
            imported_upvotes=n * 37,
        )
        if n % 3 == 0:
            DailyEntry.objects.create(
                paper=paper, day=day, submitted_at=timezone.now(), source="import"
            )


def labels(browser, url, viewport, scheme):
    page = browser.new_page(viewport=viewport, color_scheme=scheme)
    page.set_default_timeout(15_000)
    assert page.goto(url).status == 200
    found = page.evaluate(CHART_LABELS)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    return found, width


def overlapping(found):
    """Pairs of labels of one chart whose boxes cross (a name and a value may touch)."""
    return [
        (a["chart"], a["text"], b["text"])
        for n, a in enumerate(found)
        for b in found[n + 1 :]
        if a["chart"] == b["chart"]
        and a["left"] < b["right"] - 1
        and b["left"] < a["right"] - 1
        and a["top"] < b["bottom"] - 1
        and b["top"] < a["bottom"] - 1
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_charts_labels_are_readable_on_a_phone(live_server, browser, busy_site, scheme):
    found, width = labels(browser, live_server.url + "/stats", SMALL_PHONE, scheme)
    charts = {label["chart"] for label in found}
    assert len(charts) >= 6, charts  # 3 column charts, 3 bar charts
    small = [(f["chart"], f["text"], round(f["size"], 1)) for f in found if f["size"] < SMALLEST]
    assert small == [], f"chart labels under {SMALLEST} px on a 360 px screen"
    assert overlapping(found) == []
    assert width <= SMALL_PHONE["width"], f"/stats is {width}px wide on a phone"
    # each column chart still dates its columns, with at least three dates
    for chart in ("published-chart", "entries-chart", "ingested-chart"):
        dates = [f for f in found if f["chart"] == chart and f["text"][:3].isalpha()]
        assert len(dates) >= 3, chart


def test_the_desktop_charts_are_unchanged_in_size(live_server, browser, busy_site):
    found, width = labels(browser, live_server.url + "/stats", DESKTOP, "light")
    assert width <= DESKTOP["width"]
    assert min(f["size"] for f in found) >= 12
    assert overlapping(found) == []
    per_chart = {f["chart"] for f in found}
    assert len(per_chart) >= 6
