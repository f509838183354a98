import datetime as dt
import re

import pytest
from django.utils import timezone

from dailypapers.community.models import Comment
from dailypapers.papers.models import Author, DailyEntry, Organization, PaperAuthor
from dailypapers.papers.services import vote_cast
from dailypapers.stats import charts, selectors

DAY = dt.date(2026, 11, 25)
MAIN = '<main id="content" tabindex="-1">'  # the page's own content, after the header


def at(day, hour=12):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def feature(paper, day=DAY):
    DailyEntry.objects.create(paper=paper, day=day, submitted_at=at(day), source="import")


def link_authors(paper):
    """Author rows and links for a paper's names, as ingest makes them."""
    for position, author in enumerate(paper.authors):
        row, _ = Author.objects.get_or_create(name=author["name"])
        PaperAuthor.objects.create(paper=paper, author=row, position=position)


@pytest.fixture
def site(make_paper, alice):
    """Five papers (cs.CL x3, cs.CV x2) with Ada Lovelace on all; papers 0-2 featured, the
    first two from Acme Research; a vote and a comment by alice."""
    acme = Organization.objects.create(name="acme", fullname="Acme Research")
    papers = []
    for n, category in enumerate(["cs.CL", "cs.CL", "cs.CL", "cs.CV", "cs.CV"]):
        paper = make_paper(
            title=f"Paper {n}",
            categories=[category],
            published_at=at(DAY - dt.timedelta(days=n % 2)),
            imported_upvotes=10 * n,
            authors=[{"name": "Ada Lovelace"}, {"name": f"Coauthor {n}"}],
            organization=acme if n < 2 else None,
        )
        link_authors(paper)
        papers.append(paper)
    for paper in papers[:3]:
        feature(paper, DAY - dt.timedelta(days=7 * (paper.imported_upvotes == 20)))
    vote_cast(user=alice, paper=papers[0])
    Comment.objects.create(user=alice, paper=papers[0], body="Nice.")
    return papers


def test_it_counts_the_site(site):
    totals = selectors.totals()
    assert totals["papers"] == 5
    assert totals["entries"] == 3
    assert totals["days"] == 2
    assert totals["upvotes"] == 1 + 10 + 20  # the featured papers' upvotes
    assert totals["local_votes"] == 1
    assert totals["comments"] == 1


def test_it_counts_papers_per_day_in_the_window(site):
    per_day = selectors.papers_per_day("published_at", today=DAY + dt.timedelta(days=30))
    assert len(per_day) == selectors.DAYS
    assert per_day[-1] == (DAY, 3)  # papers 0, 2 and 4; the window ends at the newest paper
    assert per_day[-2] == (DAY - dt.timedelta(days=1), 2)
    assert sum(n for _, n in per_day) == 5


def test_it_counts_papers_ingested_per_day_up_to_today(site):
    from dailypapers.papers.models import Paper

    today = DAY + dt.timedelta(days=10)
    created = [today, today, DAY, DAY - dt.timedelta(days=200), today + dt.timedelta(days=1)]
    for paper, day in zip(site, created, strict=True):  # created_at is set on insert
        Paper.objects.filter(pk=paper.pk).update(created_at=at(day, 0))
    per_day = dict(selectors.papers_per_day("created_at", today=today))
    assert max(per_day) == today  # never a day after today
    assert per_day[today] == 2
    assert per_day[DAY] == 1
    assert sum(per_day.values()) == 3  # the 200-day-old paper is outside the window


def test_it_groups_entries_and_upvotes_by_week(site):
    weeks = selectors.entries_per_week()
    assert len(weeks) == selectors.WEEKS
    monday = DAY - dt.timedelta(days=DAY.weekday())
    assert weeks[-1] == (monday, 2, 1 + 10)  # papers 0 (alice's vote) and 1
    assert weeks[-2] == (monday - dt.timedelta(weeks=1), 1, 20)  # paper 2, a week earlier


def test_it_ranks_categories_authors_and_organisations(site):
    assert selectors.top_categories() == [("cs.CL", 3), ("cs.CV", 2)]
    authors = selectors.busiest_authors()
    ada = Author.objects.get(name="Ada Lovelace")
    assert authors[0] == ("Ada Lovelace", 3, 0 + 1 + 10 + 20, f"/authors/{ada.pk}-ada-lovelace")
    assert {row[0] for row in authors[1:]} == {"Coauthor 0", "Coauthor 1", "Coauthor 2"}
    assert selectors.busiest_organizations() == [("Acme Research", 2, 1 + 10, "/orgs/acme")]


def test_it_draws_the_charts_without_scripts_or_styles(client, site):
    response = client.get("/stats")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 3
    assert "<script" not in html.split(MAIN)[1]
    assert not re.search(r"\sstyle=", html), "a strict CSP refuses style attributes"
    assert "<h1>dailypapers in figures</h1>" in html
    assert '<a href="/orgs/acme">Acme Research</a>' in html  # the people pages
    assert '-ada-lovelace">Ada Lovelace</a>' in html
    assert '<td><a href="/search?q=cat:cs.CL">cs.CL</a></td><td>3</td>' in html
    # every column carries its number for a hover and for screen readers
    assert f"<title>{DAY:%a %b %-d, %Y}: 3</title>" in html


def test_it_is_cached_until_the_site_changes(
    client, site, make_paper, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    client.get("/stats")
    with django_assert_max_num_queries(1):  # the generation, nothing else
        assert client.get("/stats").status_code == 200
    make_paper(categories=["math.CO"])  # a save moves the generation ...
    assert "math.CO" not in client.get("/stats").content.decode()  # ... shown within a minute
    time_machine.shift(60)
    assert "math.CO" in client.get("/stats").content.decode()


def test_it_shows_an_empty_site(client, db):
    response = client.get("/stats")
    assert response.status_code == 200
    assert "No papers yet" in response.content.decode()


def test_it_scales_columns_to_a_round_top():
    assert [charts.nice_ceiling(v) for v in (0, 1, 7, 12, 230, 2400)] == [1, 1, 10, 20, 250, 2500]
    chart = charts.columns([0, 5, 10], ["a", "b", "c"])
    heights = [column.height for column in chart["columns"]]
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1], abs=0.1)
    assert [tick.text for tick in chart["ticks"]] == ["0", "5", "10"]


def test_it_dates_the_papers_by_their_days_and_the_ingest_only_as_such(
    client, make_paper, time_machine
):
    """A site loaded today from a snapshot of December 2025: the papers' days are the
    snapshot's; today's date is the last ingest, said so, and nothing else."""
    ingest = dt.datetime(2026, 12, 5, 18, 20, tzinfo=dt.UTC)
    time_machine.move_to(ingest, tick=False)
    for n, day in enumerate([dt.date(2025, 12, 8), dt.date(2025, 12, 29), dt.date(2025, 12, 31)]):
        paper = make_paper(published_at=at(day - dt.timedelta(days=2 * (n == 2))))
        feature(paper, day)  # the newest daily page, Dec 31, holds a paper of Dec 29

    html = client.get("/stats").content.decode().split(MAIN)[1].split("</main>")[0]
    dates = re.search(r'<p class="dates" id="dates">(.*?)</p>', html, re.S)[1]
    assert (
        'Newest daily page: <a href="/papers/date/2025-12-31">Wednesday, December 31, 2025</a>'
        " (daily pages since December 8, 2025)." in dates
    )
    assert "Newest paper: first published on arXiv on December 29, 2025." in dates
    last_ingest = re.search(r'<p class="muted" id="last-ingest">(.*?)</p>', html)[0]
    assert "Last ingest: Dec 5, 2026, 18:20 UTC" in last_ingest
    ingested = re.search(r'<section class="figure" id="ingested">.*?</section>', html, re.S)[0]
    assert "By ingest time" in ingested and "Dec 5, 2026" in ingested
    # Anywhere else, the page dates its papers by their own days: no 2026 at all.
    rest = html.replace(last_ingest, "").replace(ingested, "")
    assert "2026" not in rest
    assert "papers featured in the 8 weeks to Dec 31, 2025" in rest
    assert html.index('id="entries"') < html.index('id="ingested"')  # the papers' own first


def test_it_dates_every_other_label_minor_only_when_a_phone_is_crowded():
    days = [DAY - dt.timedelta(days=n) for n in range(90, 0, -1)]
    labels = charts.date_labels(days)
    assert len(labels) == 7 and [label.minor for label in labels] == [0, 1, 0, 1, 0, 1, 0]
    assert (labels[0].x, labels[0].anchor) == (0, "start")  # clear of the value axis' "0"
    assert labels[1].anchor == "middle" and 0 < labels[1].x < labels[-1].x < 100
    weeks = charts.date_labels(days[:8])  # 4 labels: room for all on a phone
    assert len(weeks) == 4 and not any(label.minor for label in weeks)
