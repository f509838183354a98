"""The /search page, "For you" and the feedback/follow buttons, over real HTTP requests."""

import datetime as dt

import pytest

from dailypapers.digests.selectors import follows_for_user
from dailypapers.search import acronyms, index_papers
from dailypapers.search.models import PaperFeedback


@pytest.fixture(autouse=True)
def search_dir(fresh_search_dir):
    return fresh_search_dir


@pytest.fixture
def papers(make_paper):
    made = [
        make_paper(
            title="Structured pruning of large language models",
            abstract="We remove whole attention heads and channels from LLMs without retraining.",
            github_repo="https://github.com/example/prune",
        ),
        make_paper(
            title="Diffusion language models that decode faster",
            abstract="Parallel decoding for diffusion LMs cuts latency by half.",
            categories=["cs.LG"],
        ),
        make_paper(title="A survey of graph neural networks", abstract="Message passing."),
    ]
    index_papers([paper.pk for paper in made])
    return made


def test_it_finds_papers_and_shows_them_like_the_daily_page(client, papers):
    response = client.get("/search", {"q": "pruning language models"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Structured pruning of large language models" in body
    assert "A survey of graph neural networks" not in body
    assert 'type="application/atom+xml"' in body and "/feeds/search.atom?q=pruning" in body


def test_a_hits_row_is_rendered_once_for_every_search_and_sends_visitors_back_to_theirs(
    client, papers
):
    from urllib.parse import quote

    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    first = client.get("/search", {"q": "pruning"}).content.decode()
    assert "/accounts/login/?next=" + quote("/search?q=pruning") in first
    # Another search finds the same paper: its row comes from the row cache (no thumbnail
    # or author links read to render it), with this search as the page to come back to.
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/search", {"q": "structured pruning"}).content.decode()
    tables = ('"thumbnails_thumbnail"', '"papers_paperauthor"')
    rendering = [q["sql"] for q in queries if any(table in q["sql"] for table in tables)]
    assert rendering == []
    assert "Structured pruning of large language models" in second
    assert "/accounts/login/?next=" + quote("/search?q=structured+pruning") in second
    assert "dp-next-page-mark" not in first + second


def test_it_says_which_acronyms_it_spelled_out(client, papers, make_paper):
    for i in range(2):
        make_paper(title=f"Graph learning {i}", abstract="Deep graph neural networks (GNNs).")
    acronyms.refresh()
    body = client.get("/search", {"q": "GNNs"}).content.decode()
    assert "also searched: graph neural networks" in body
    assert "A survey of graph neural networks" in body  # it never says "GNN"


def test_it_jumps_to_the_paper_for_an_arxiv_id_or_link(client, papers):
    response = client.get("/search", {"q": f"https://arxiv.org/abs/{papers[1].arxiv_id}v2"})
    assert response.status_code == 302
    assert response["Location"] == f"/papers/{papers[1].arxiv_id}"


def test_it_applies_filters_and_keeps_them_in_the_form(client, papers):
    response = client.get("/search", {"q": "models", "code": "1"})
    body = response.content.decode()
    assert "Structured pruning" in body and "Diffusion language models" not in body
    assert 'name="code" value="1" checked' in body
    response = client.get("/search", {"q": "models", "category": "cs.LG"})
    body = response.content.decode()
    assert "Diffusion language models" in body and "Structured pruning" not in body


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "ti:", "-", "a" * 10_000, "🦙 NEAR/3 (x OR", "\x00\x1b[31m", 'au:"', "*"],
)
def test_it_never_fails_on_any_text(client, papers, query):
    response = client.get("/search", {"q": query, "from": "2026-13-45", "sort": "nonsense"})
    assert response.status_code == (400 if "\x00" in query else 200)  # NUL: a clear 400


def test_it_says_when_nothing_matches(client, papers):
    response = client.get("/search", {"q": "zzzqqq xylophone"})
    assert response.status_code == 200
    assert "No papers match" in response.content.decode()


def test_it_lets_a_member_follow_a_search_as_a_topic(client, alice, papers):
    client.force_login(alice)
    response = client.post("/follow", {"kind": "topic", "value": "pruning  language models"})
    assert response.status_code == 302
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [
        ("topic", "pruning language models")
    ]
    page = client.get("/search", {"q": "pruning language models"}).content.decode()
    assert "Unfollow this topic" in page
    client.post(
        "/follow", {"kind": "topic", "value": "pruning language models", "action": "unfollow"}
    )
    assert follows_for_user(alice) == []


def test_it_refuses_a_bad_follow_with_a_message(client, alice):
    client.force_login(alice)
    response = client.post("/follow", {"kind": "category", "value": "not a category!"}, follow=True)
    assert response.status_code == 200
    assert "not an arXiv category" in response.content.decode()


def test_it_records_feedback_and_recommends_from_follows(client, alice, papers):
    client.force_login(alice)
    client.post("/follow", {"kind": "topic", "value": "diffusion language models"})
    page = client.get("/for-you").content.decode()
    assert "Diffusion language models that decode faster" in page
    client.post(f"/papers/{papers[1].arxiv_id}/feedback", {"kind": "not_interested"})
    client.post(f"/papers/{papers[0].arxiv_id}/feedback", {"kind": "saved"})
    kinds = dict(PaperFeedback.objects.filter(user=alice).values_list("paper_id", "kind"))
    assert kinds == {papers[1].pk: "not_interested", papers[0].pk: "saved"}


def test_a_new_member_starts_from_the_weeks_trending_papers(client, alice, papers, feature):
    """Nothing liked, nothing followed: For you offers the trending papers to rate, not an
    empty page."""
    feature(papers[2])
    client.force_login(alice)
    page = client.get("/for-you").content.decode()
    assert "A survey of graph neural networks" in page and "Nothing learned yet" in page
    assert "Trending this week. Upvote or save it" in page
    client.post(f"/papers/{papers[2].arxiv_id}/feedback", {"kind": "saved"})
    page = client.get("/for-you").content.decode()
    assert "Nothing learned yet" not in page and "Trending this week" not in page


def test_it_asks_visitors_to_sign_in_for_personal_pages(client, papers):
    assert client.get("/for-you")["Location"].startswith("/accounts/login/")
    response = client.post("/follow", {"kind": "topic", "value": "x"})
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_related_papers_on_the_paper_page(client, papers, make_paper):
    old = make_paper(
        title="Pruning attention heads in language models, revisited",
        abstract="Structured pruning of heads and channels in large language models.",
        published_at=papers[0].published_at - dt.timedelta(days=400),
    )
    index_papers([old.pk])
    page = client.get(f"/papers/{papers[0].arxiv_id}").content.decode()
    related = page[page.index('id="related"') :]
    assert "Pruning attention heads in language models, revisited" in related
    assert "Structured pruning of large language models</a>" not in related  # not itself
    recent = client.get(f"/papers/{papers[0].arxiv_id}?related=recent").content.decode()
    assert "revisited" not in recent[recent.index('id="related"') :]


def test_a_query_only_the_meaning_matches_does_not_count_every_paper_as_a_hit(
    client, papers, monkeypatch
):
    from dailypapers.search import selectors

    # None of these words is in any paper; every paper is near enough in meaning to show
    # (as on a small site, where the nearest papers are all of them).
    monkeypatch.setattr(selectors, "SEMANTIC_MIN", -1.0)
    body = client.get("/search", {"q": "sparsifying transformer weights"}).content.decode()
    assert "No paper has these words; the closest in meaning" in body
    assert "3 papers" not in body
    words = client.get("/search", {"q": "pruning"}).content.decode()
    assert "1 paper matches “pruning”" in words and "closest in meaning" not in words


def test_an_id_search_says_which_id_no_paper_has_and_offers_to_submit_it(client, papers):
    body = client.get("/search", {"q": "id:2512.99999"}).content.decode()
    assert "No paper here has the arXiv id 2512.99999." in body
    assert 'href="/submit?arxiv_id=2512.99999"' in body
    assert "Structured pruning" not in body


@pytest.mark.parametrize(
    "query, says",
    [("id:9999.99999", "“9999.99999” is not an arXiv id: 99 is not a month."),
     ("ti:", "“ti:” has nothing after it")],
)  # fmt: skip
def test_a_prefix_that_cannot_be_searched_finds_nothing_and_says_why(client, papers, query, says):
    response = client.get("/search", {"q": query})
    body = response.content.decode()
    assert response.status_code == 200
    assert says in body
    assert "Try fewer words" not in body  # the notice says what to change
    assert "0 papers" in body and "Structured pruning" not in body


@pytest.mark.parametrize(
    "query, name",
    [
        ("au:Liu", "Wei Liu"),
        ("wei liu", "Wei Liu"),
        ('au:"WEI Liu"', "Wei Liu"),
        ('au:"Lukasz Kaiser"', "Łukasz Kaiser"),  # a letter Unicode does not decompose
        ('au:"Olafur Sigurdsson"', "Ólafur Sigurðsson"),
    ],
)
def test_an_author_searched_for_shows_in_a_cut_byline(client, make_paper, query, name):
    """A long byline is cut after four names; the author searched for is shown anyway."""
    authors = [{"name": f"Author {i}"} for i in range(9)] + [{"name": name}]
    paper = make_paper(title="Scaling sparse attention", authors=authors)
    index_papers([paper.pk])
    html = client.get("/search", {"q": query}).content.decode()
    assert "Scaling sparse attention" in html
    cut = f'Author 3, …, <strong class="sought">{name}</strong> et al. (10 authors)'
    assert cut in html
    # The same row in a search for the topic keeps the plain cut byline.
    topic = client.get("/search", {"q": "sparse attention"}).content.decode()
    assert "Author 3 et al. (10 authors)" in topic and "Wei Liu" not in topic


def test_following_a_category_search_follows_the_category(client, alice, papers):
    # "cat:cs.LG" typed in the search box, then "Follow": the member means the category,
    # and For you and the digest should name it so, not as a topic spelt in query syntax.
    client.force_login(alice)
    page = client.get("/search", {"q": "cat:cs.LG"}).content.decode()
    assert "Follow this category" in page
    client.post("/follow", {"kind": "topic", "value": "cat:cs.LG", "next": "/search?q=cat:cs.LG"})
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [("category", "cs.LG")]
    assert "Unfollow this category" in client.get("/search", {"q": "cat:cs.LG"}).content.decode()
    assert "In cs.LG, a category you follow" in client.get("/for-you").content.decode()
    client.post("/follow", {"kind": "topic", "value": "cat:cs.LG", "action": "unfollow"})
    assert follows_for_user(alice) == []


def test_a_category_search_followed_as_a_topic_before_can_be_unfollowed(client, alice):
    """Follows made before a cat: search meant the category stay topics: their chip's
    unfollow removes them, not only the category of the same name."""
    from dailypapers.digests.models import Follow

    client.force_login(alice)
    client.post("/follow", {"kind": "topic", "value": "diffusion"})  # makes the subscription
    subscription = Follow.objects.get().subscription
    Follow.objects.create(subscription=subscription, kind="topic", value="cat:cs.RO")
    client.post("/follow", {"kind": "topic", "value": "cat:cs.RO", "action": "unfollow"})
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [("topic", "diffusion")]


def test_following_an_author_search_follows_the_author(client, alice, papers):
    client.force_login(alice)
    client.post("/follow", {"kind": "topic", "value": 'au:"Ada Lovelace"'})
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [("author", "Ada Lovelace")]
    page = client.get("/search", {"q": 'au:"Ada Lovelace"'}).content.decode()
    assert "Unfollow this author" in page
