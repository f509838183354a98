import datetime as dt
import math
import re
from html import unescape

import pytest

from dailypapers.papers.models import Organization

from .conftest import DAY


def titles(response):
    html = response.content.decode()
    return [unescape(title) for title in re.findall(r'<h2><a href="/papers/[^"]+">(.*?)</a>', html)]


def test_it_shows_the_latest_day_on_the_home_page(client, day_of_papers, make_paper, feature):
    feature(make_paper(title="Older"), day=DAY - dt.timedelta(days=3))
    response = client.get("/")
    assert response.status_code == 200
    assert titles(response) == ["Top paper", "Middle paper", "Low votes"]
    html = response.content.decode()
    assert 'type="application/atom+xml" title=' in html and 'href="/feeds/daily.atom"' in html
    assert "Wednesday, November 25, 2026" in html
    assert f'href="/papers/date/{DAY - dt.timedelta(days=3)}"' in html  # previous day
    dated = client.get(f"/papers/date/{DAY}").content.decode()
    assert f'type="application/atom+xml" title="{DAY:%A, %B %-d, %Y}' in dated
    assert f'href="/feeds/date/{DAY}.atom"' in dated


def test_it_shows_what_a_reader_needs_for_each_paper(client, make_paper, feature):
    org = Organization.objects.create(name="acme", fullname="Acme Research")
    authors = [{"name": f"Author {i}"} for i in range(12)]
    paper = make_paper(
        title="Sparse $O(n \\log n)$ attention",
        abstract="Word " * 200,
        authors=authors,
        organization=org,
        github_repo="https://github.com/acme/sparse",
        github_stars=1234,
        imported_upvotes=7,
        num_comments=3,
    )
    feature(paper)
    html = client.get(f"/papers/date/{DAY}").content.decode()
    assert "Sparse O(n log n) attention" in html  # TeX as text: KaTeX runs on paper pages only
    assert "Author 0, Author 1, Author 2, Author 3 et al. (12 authors)" in html
    assert "Author 11" not in html
    assert "Acme Research" in html
    assert "Word Word" in html and "…" in html and html.count("Word") < 100
    assert 'href="https://github.com/acme/sparse"' in html and "1234" in html
    assert f'href="https://arxiv.org/pdf/{paper.arxiv_id}"' in html
    assert "3 comments" in html
    assert '<span class="count">7</span>' in html


def test_it_breaks_ties_by_submission_time(client, make_paper, feature):
    early, late = make_paper(title="Early"), make_paper(title="Late")
    feature(late, when=dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC))
    feature(early, when=dt.datetime(2026, 11, 25, 7, tzinfo=dt.UTC))
    assert titles(client.get(f"/papers/date/{DAY}")) == ["Early", "Late"]


def test_it_hides_hidden_papers(client, day_of_papers):
    day_of_papers[1].hidden = True
    day_of_papers[1].save()
    assert "Top paper" not in titles(client.get("/"))


def test_it_steps_over_days_without_visible_papers(client, make_paper, feature):
    early, hidden, late = make_paper(), make_paper(hidden=True), make_paper()
    feature(early, day=DAY - dt.timedelta(days=5))
    feature(hidden, day=DAY - dt.timedelta(days=2))
    feature(late, day=DAY)
    feature(hidden, day=DAY + dt.timedelta(days=1))
    response = client.get("/")
    assert response.context["day"] == DAY and response.context["previous"] == "2026-11-20"
    middle = client.get(f"/papers/date/{DAY - dt.timedelta(days=3)}").context
    assert (middle["previous"], middle["following"]) == ("2026-11-20", str(DAY))


def test_it_points_an_empty_day_to_the_closest_day_with_papers(client, day_of_papers):
    response = client.get("/papers/date/2026-11-28")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No papers on this day" in html
    assert f'href="/papers/date/{DAY}"' in html


def test_it_says_so_when_there_are_no_papers_at_all(client, db):
    for url in ["/", "/papers/trending", "/papers/week/2026-W48", "/papers/month/2026-11"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "No papers" in response.content.decode() or "no papers" in response.content.decode()


def test_it_lists_a_week_and_a_month(client, day_of_papers, make_paper, feature):
    feature(make_paper(title="Next week", imported_upvotes=99), day=DAY + dt.timedelta(days=7))
    feature(day_of_papers[0], day=DAY + dt.timedelta(days=1))  # twice in the week: once
    week = client.get("/papers/week/2026-W48")
    assert titles(week) == ["Top paper", "Middle paper", "Low votes"]
    assert 'href="/feeds/week/2026-W48.atom"' in week.content.decode()
    assert 'href="/papers/week/2026-W49"' in week.content.decode()  # next; none before
    month = client.get("/papers/month/2026-11")
    assert titles(month)[0] == "Top paper" and "Next week" not in titles(month)
    assert 'href="/feeds/month/2026-11.atom"' in month.content.decode()
    december = client.get("/papers/month/2026-12")
    assert titles(december) == ["Next week"]


def test_the_next_week_and_month_links_stop_at_the_newest_papers(
    client, day_of_papers, make_paper, feature
):
    newest = client.get("/papers/week/2026-W48").content.decode()  # DAY's week
    assert 'rel="next"' not in newest
    later = client.get("/papers/week/2026-W52").content.decode()
    assert 'rel="next"' not in later
    assert "The closest day with papers is" in later
    month = client.get("/papers/month/2026-11").content.decode()
    assert 'rel="next"' not in month

    feature(make_paper(title="Next week"), day=DAY + dt.timedelta(days=7))
    week = client.get("/papers/week/2026-W48").content.decode()
    assert 'rel="next" href="/papers/week/2026-W49"' in week
    month = client.get("/papers/month/2026-11").content.decode()
    assert 'rel="next" href="/papers/month/2026-12"' in month
    assert 'rel="next"' not in client.get("/papers/month/2026-12").content.decode()


def test_the_previous_week_and_month_links_stop_at_the_oldest_papers(client, make_paper, feature):
    feature(make_paper(title="The first papers"), day=DAY)  # 2026-11-23, in 2026-W48
    week = client.get("/papers/week/2026-W48").content.decode()
    assert 'rel="prev"' not in week
    assert (
        'rel="prev" href="/papers/week/2026-W48"'
        in client.get("/papers/week/2026-W49").content.decode()
    )
    assert 'rel="prev"' not in client.get("/papers/month/2026-11").content.decode()
    feature(make_paper(title="Older"), day=DAY - dt.timedelta(days=30))
    assert (
        'rel="prev" href="/papers/week/2026-W47"'
        in client.get("/papers/week/2026-W48").content.decode()
    )
    assert (
        'rel="prev" href="/papers/month/2026-10"'
        in client.get("/papers/month/2026-11").content.decode()
    )


def test_it_pages_long_periods(client, make_paper, feature):
    for number in range(55):
        feature(make_paper(imported_upvotes=number), day=DAY - dt.timedelta(days=number % 3))
    first = client.get("/papers/week/2026-W48")
    assert len(titles(first)) == 50 and 'rel="next" href="?page=2"' in first.content.decode()
    second = client.get("/papers/week/2026-W48?page=2")
    assert len(titles(second)) == 5 and "?page=3" not in second.content.decode()
    assert client.get("/papers/week/2026-W48?page=abc").status_code == 200
    assert "no page 9" in client.get("/papers/week/2026-W48?page=9").content.decode()


def test_it_ranks_trending_by_the_stored_score(client, make_paper, feature):
    old = make_paper(title="Old but loved", imported_upvotes=1000, trending_score=10.0)
    new = make_paper(title="Fresh", imported_upvotes=2, trending_score=20.0)
    feature(old, day=DAY - dt.timedelta(days=2))
    feature(new)
    response = client.get("/papers/trending")
    assert titles(response) == ["Fresh", "Old but loved"]
    assert 'href="/feeds/trending.atom"' in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/papers/date/2026-13-01",
        "/papers/date/2026-02-30",
        "/papers/date/yesterday",
        "/papers/date/" + "9" * 5000,
        "/papers/date/２０２６-１１-２５",
        "/papers/week/2026-W54",
        "/papers/week/2026-W00",
        "/papers/week/9999-W52",
        "/papers/week/2026-48",
        "/papers/month/2026-13",
        "/papers/month/0000-01",
        "/papers/month/2026-1",
        "/papers/not-an-id",
        "/papers/2611.99999",
        "/papers/2613.00001",
        "/papers/" + "x" * 3000,
        "/papers/ünïcödé/ids",
        "/papers/hep-th/9901001",
        "/u/nobody",
        "/u/" + "é" * 300,
    ],
)
def test_it_answers_bad_addresses_with_a_friendly_404(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Back to the daily papers" in response.content.decode()


def test_it_shows_the_last_month_a_date_can_hold_empty(client, db):
    # 9999-12 is a month (its last day is the last a date holds), shown as any empty month.
    assert client.get("/papers/month/9999-12").status_code == 200


def test_it_explains_why_an_address_is_wrong(client, db):
    assert "dates look like" in client.get("/papers/date/2026-02-30").content.decode()
    assert "is not an arXiv id" in client.get("/papers/nope").content.decode()


def test_it_shows_the_about_page_with_the_formula_from_the_code(client, db):
    from dailypapers.papers.ranking import trending_score

    html = client.get("/about").content.decode()
    formula = unescape(re.search(r'<pre class="formula">(.*?)</pre>', html, re.S)[1])
    name, expression = formula.split("=", 1)
    assert name.strip() == "trending_score"
    for upvotes, featured_at in [(0, "2025-12-12T08:00:00Z"), (1234, "2026-11-25T17:30:00Z")]:
        moment = dt.datetime.fromisoformat(featured_at)
        shown = eval(expression, {"log10": math.log10, "max": max},  # noqa: S307  (our page)
                     {"upvotes": upvotes, "featured_at": moment.timestamp()})  # fmt: skip
        assert shown == pytest.approx(trending_score(upvotes=upvotes, featured_at=moment))
    # written for readers: code set as code, no notes for developers
    text = re.sub(r"<[^>]+>", "", html)
    assert "`" not in text and "<code>sort=trending</code>" in html
    assert "tests pin" not in text and "comes from the code" not in text


def test_it_renders_the_daily_page_in_a_few_queries(
    client, alice, make_paper, feature, django_assert_max_num_queries
):
    org = Organization.objects.create(name="o")
    for number in range(50):
        feature(make_paper(organization=org, imported_upvotes=number))
    # the site's generation (page cache), the days (this, previous, next), the list's
    # stamps, the rows not cached yet and their author links; then the page itself comes
    # from the page cache
    with django_assert_max_num_queries(5):
        assert client.get("/").content.count(b'class="paper"') == 50
    with django_assert_max_num_queries(1):
        assert client.get("/").content.count(b'class="paper"') == 50
    client.force_login(alice)
    # members: session, user, generation, the days, the stamps, their votes, uncached rows
    # and their author links, their unread notifications (the menu's count)
    with django_assert_max_num_queries(9):
        assert client.get(f"/papers/date/{DAY}").content.count(b'class="paper"') == 50


def test_it_never_serves_a_stale_cached_list(client, alice, day_of_papers):
    from dailypapers.papers.services import vote_cast

    assert b'<span class="count">30</span>' in client.get("/").content
    vote_cast(user=alice, paper=day_of_papers[1])  # an UPDATE ... F(): no modified_at change
    assert b'<span class="count">31</span>' in client.get("/").content
    paper = day_of_papers[2]
    paper.title = "Renamed paper"
    paper.save()
    assert b"Renamed paper" in client.get("/").content
    paper.hidden = True
    paper.save()
    assert b"Renamed paper" not in client.get("/").content


ODD = ["%00", "%ff%fe", "'; DROP TABLE papers_paper; --", "<b>x</b>", "😀" * 50, "a" * 2000]


@pytest.mark.parametrize("odd", ODD)
def test_it_never_fails_on_odd_input(client, alice, day_of_papers, odd):
    paths = [
        f"/papers/date/{odd}",
        f"/papers/week/{odd}",
        f"/papers/month/{odd}",
        f"/papers/{odd}",
        f"/papers/{odd}/vote",
        f"/u/{odd}",
        f"/?page={odd}",
        f"/papers/week/2026-W48?page={odd}",
        f"/submit?arxiv_id={odd}",
    ]
    client.force_login(alice)
    for path in paths:
        assert client.get(path).status_code in (200, 302, 400, 404, 405), path
    for path, data in [
        ("/submit", {"arxiv_id": odd}),
        (f"/papers/{day_of_papers[0].arxiv_id}/comments", {"body": odd}),
        (f"/papers/{day_of_papers[0].arxiv_id}/vote", {"action": odd, "next": odd}),
        ("/accounts/signup/", {"username": odd, "email": odd, "password1": odd}),
        ("/accounts/login/", {"username": odd, "password": odd}),
        ("/accounts/password_reset/", {"email": odd}),
    ]:
        assert client.post(path, data).status_code < 500, path


def test_it_renders_a_month_in_a_few_queries(
    client, make_paper, feature, django_assert_max_num_queries
):
    for number in range(60):
        feature(make_paper(imported_upvotes=number), day=DAY - dt.timedelta(days=number % 20))
    # the site's generation (page cache), the month's stamps, the site's newest and oldest
    # days (for the "next" and "previous" links), this page's rows and their author links
    with django_assert_max_num_queries(6):
        response = client.get("/papers/month/2026-11")
    assert titles(response)[:2] == [
        "A paper about attention, part 60",
        "A paper about attention, part 59",
    ]
    with django_assert_max_num_queries(1):  # the page cached (the generation only)
        assert titles(client.get("/papers/month/2026-11")) == titles(response)


def test_it_refuses_nul_characters_clearly_on_every_database(client, alice):
    client.force_login(alice)
    for path in ["/u/%00", "/search?q=a%00b", "/papers/2401.0%001"]:
        response = client.get(path)
        assert response.status_code == 400, path
        assert b"NUL character" in response.content
    assert client.post("/submit", {"arxiv_id": "2401\x00"}).status_code == 400
    api = client.get("/api/papers/search?q=%00")
    assert api.status_code == 400 and "NUL" in api.json()["error"]


def test_it_invites_readers_to_the_digest_and_the_feeds(client, day_of_papers):
    html = client.get("/").content.decode()
    assert 'href="/subscribe">Get trending papers in your email inbox</a>' in html
    assert 'href="/feeds/daily.atom"' in html and 'href="/feeds/daily.rss"' in html
    week = client.get("/papers/week/2026-W48").content.decode()
    assert 'href="/feeds/week/2026-W48.rss"' in week
    for feed in ["/feeds/daily.rss", "/feeds/week/2026-W48.rss", "/feeds/trending.rss"]:
        assert client.get(feed)["Content-Type"].startswith("application/rss+xml"), feed


def test_it_has_an_icon_and_a_robots_txt(client, db):
    page = client.get("/about").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert icon.split("?")[0].endswith(".svg")  # /static/web/favicon.svg?v=<digest>
    old_style = client.get("/favicon.ico")
    assert old_style.status_code == 301 and old_style["Location"] == icon
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots["Content-Type"].startswith("text/plain")
    assert "Disallow: /search\n" in robots.content.decode()
