import feedparser
import pytest

from .conftest import DAY

pytestmark = pytest.mark.django_db


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return response, feed


@pytest.fixture
def indexed(days):
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in days.values()])
    return days


URLS = [
    "/feeds/daily",
    f"/feeds/date/{DAY}",
    "/feeds/trending",
    "/feeds/week/2026-W48",
    "/feeds/month/2026-11",
    "/feeds/search?q=attention",
    "/feeds/topic/attention",
    "/feeds/author/Ada Lovelace",
    "/feeds/category/cs.CL",
]


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_it_serves_every_feed_without_parse_errors(client, indexed, kind):
    for url in URLS:
        if "?" in url:
            path, query = url.split("?")
            url = f"{path}.{kind}?{query}"
        else:
            url = f"{url}.{kind}"
        _, feed = parse(client, url)
        ids = [entry.id for entry in feed.entries]
        assert ids and len(ids) == len(set(ids)), url
        assert indexed["hidden"].arxiv_id not in " ".join(ids)


def test_it_gives_entries_stable_ids_authors_abstract_and_links(client, days):
    _, feed = parse(client, f"/feeds/date/{DAY}.atom")
    top = days["top"]
    entry = feed.entries[0]
    assert entry.title == top.title
    assert entry.id.endswith(f"/papers/{top.arxiv_id}")
    assert [author.name for author in entry.authors] == ["Ada Lovelace", "Alan Turing"]
    links = {link.rel: link.href for link in entry.links}
    assert links["alternate"].endswith(f"/papers/{top.arxiv_id}")
    assert links["related"] == f"https://arxiv.org/abs/{top.arxiv_id}"
    assert "We study attention." in entry.summary
    assert entry.updated_parsed and entry.published_parsed
    assert [tag.term for tag in entry.tags] == ["cs.CL"]
    _, again = parse(client, "/feeds/daily.atom")  # DAY is the latest day: same ids
    assert [item.id for item in again.entries] == [item.id for item in feed.entries]


def test_it_orders_the_daily_feed_as_the_page(client, days):
    _, feed = parse(client, f"/feeds/date/{DAY}.rss")
    order = [days[name].arxiv_id for name in ("top", "mid", "low")]
    assert [entry.link.rsplit("/", 1)[1] for entry in feed.entries] == order
    assert "Ada Lovelace" in feed.entries[0].author


def test_it_answers_304_to_conditional_gets(client, days):
    response, _ = parse(client, "/feeds/daily.atom")
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get("/feeds/daily.atom", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/feeds/daily.rss", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get("/feeds/daily.atom", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304


def test_it_answers_404_for_impossible_periods(client, days):
    assert client.get("/feeds/week/2026-W60.atom").status_code == 404
    assert client.get("/feeds/month/2026-13.atom").status_code == 404
    assert client.get("/feeds/date/2026-02-31.rss").status_code == 404
    assert client.get("/feeds/search.atom").status_code == 404


def test_it_answers_the_edge_of_the_calendar_without_failing(client, days):
    # 9999-W52 ends in year 10000, which no date holds: a 404, not a 500.
    assert client.get("/feeds/week/9999-W52.atom").status_code == 404
    assert client.get("/feeds/month/0000-01.rss").status_code == 404
    _, last_month = parse(client, "/feeds/month/9999-12.atom")
    assert last_month.entries == []


def test_it_is_advertised_by_the_listing_pages(client, days):
    page = client.get("/papers/week/2026-W48").content.decode()
    assert 'type="application/atom+xml"' in page and "/feeds/week/2026-W48.atom" in page


def test_it_keeps_to_papers_that_hold_every_word_of_a_topic_as_its_digest_does(client, make_paper):
    from dailypapers.search import index_papers

    on_topic = [
        make_paper(title="Scaling diffusion language models to 100B parameters"),
        make_paper(
            title="Parallel decoding for text",
            abstract="Diffusion language models decode many tokens at once. We speed them up.",
        ),
    ]
    off_topic = [
        make_paper(title="Video super-resolution with diffusion"),
        make_paper(title="Large language models write code"),
        make_paper(
            title="Sampling tricks",
            abstract="We study diffusion. Language models are not studied here. Models vary.",
        ),
    ]
    index_papers([paper.pk for paper in [*on_topic, *off_topic]])

    _, feed = parse(client, "/feeds/topic/diffusion%20language%20models.atom")

    titles = {entry.title for entry in feed.entries}
    assert titles == {paper.title for paper in on_topic}


def test_a_feed_that_cannot_be_is_a_404_with_a_sentence_for_the_reader(client):
    for url, sentence in [
        ("/feeds/date/2025-02-30.atom", "2025-02-30 is not a day of the calendar."),
        ("/feeds/week/2025-W54.rss", "2025 has no ISO week 54."),
        ("/feeds/search.atom", "Give a search query as ?q="),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "text/plain; charset=utf-8", url
        assert response.content.decode().startswith(sentence), url


def test_author_and_category_feeds_link_to_what_lists_their_papers(client, days):
    from dailypapers.papers.models import Author

    ada = Author.objects.get(name="Ada Lovelace")
    _, feed = parse(client, "/feeds/author/Ada Lovelace.atom")
    assert feed.feed.link.endswith(f"/authors/{ada.pk}-ada-lovelace")
    _, feed = parse(client, "/feeds/category/cs.CL.atom")
    assert feed.feed.link.endswith("/search?q=cat%3Acs.CL")
