import datetime as dt

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_one_paper_with_its_daily_entry(client, days):
    paper = days["top"]
    response = client.get(f"/api/papers/{paper.arxiv_id}v3")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == paper.arxiv_id and data["upvotes"] == 12
    assert data["submittedOnDailyBy"]["user"] == "akhaliq"
    assert data["summary"] == paper.abstract


def test_it_answers_404_and_400_in_json(client, days):
    missing = client.get("/api/papers/2611.99999")
    assert missing.status_code == 404 and "2611.99999" in missing.json()["error"]
    assert client.get(f"/api/papers/{days['hidden'].arxiv_id}").status_code == 404
    malformed = client.get("/api/papers/banana")
    assert malformed.status_code == 400 and malformed.json()["field"] == "id"


def test_it_walks_every_paper_once_with_the_cursor(client, make_paper):
    made = {make_paper().arxiv_id for _ in range(7)}
    seen, url = [], "/api/papers?limit=3"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [paper["id"] for paper in response.json()]
        link = response.get("Link")
        url = link[link.index("<") + 1 : link.index(">")] if link else None
    assert len(seen) == 7 and set(seen) == made
    assert client.get("/api/papers?cursor=@@@").status_code == 400
    assert client.get("/api/papers?cursor=Zm9v").json()["field"] == "cursor"


def test_it_searches_in_the_upstream_shape(client, days, make_paper):
    from dailypapers.search import index_papers

    paper = make_paper(title="Diffusion models for protein folding")
    index_papers([paper.pk])
    response = client.get("/api/papers/search", {"q": "protein folding"})
    assert response.status_code == 200
    hits = response.json()
    assert hits and "protein" in hits[0]["paper"]["title"].lower()
    assert client.get("/api/papers/search", {"q": "a\x01b"}).json()["field"] == "q"
    assert client.get("/api/papers/search", {"q": "x", "limit": 500}).status_code == 400


def test_it_gives_trending_with_scores_and_categories(client, days):
    trending = client.get("/api/trending").json()
    scores = [item["trendingScore"] for item in trending]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    assert client.get("/api/categories").json() == [{"id": "cs.CL", "papers": 4}]


def test_trending_lists_a_paper_featured_twice_once_and_pages_without_overlap(
    client, days, feature
):
    from .conftest import DAY

    feature(days["mid"], DAY - dt.timedelta(days=1), hour=11)  # featured again, a day earlier
    whole = [item["paper"]["id"] for item in client.get("/api/trending").json()]
    assert len(whole) == len(set(whole)) == 4
    pages = [client.get("/api/trending", {"p": p, "limit": 3}).json() for p in (0, 1)]
    assert [item["paper"]["id"] for page in pages for item in page] == whole


def test_it_renders_a_paper_as_markdown(client, days):
    paper = days["top"]
    response = client.get(f"/papers/{paper.arxiv_id}.md")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith(f"# {paper.title}") and "Ada Lovelace" in text
    assert f"https://arxiv.org/abs/{paper.arxiv_id}" in text
    assert client.get("/papers/2611.99999.md").status_code == 404


def test_it_gives_related_papers_without_the_paper_itself(client, days):
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in days.values()])
    paper = days["top"]
    response = client.get(f"/api/papers/{paper.arxiv_id}/related", {"limit": 3})
    assert response.status_code == 200
    related = [item["id"] for item in response.json()]
    assert related and paper.arxiv_id not in related and days["hidden"].arxiv_id not in related
    assert client.get("/api/papers/2611.99999/related").status_code == 404
    assert client.get(f"/api/papers/{paper.arxiv_id}/related", {"limit": 51}).status_code == 400
