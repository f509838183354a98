"""Acceptance: the official huggingface_hub client and `hf papers` CLI against a live server."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from .conftest import DAY

pytestmark = pytest.mark.django_db(transaction=True)

HF = Path(sys.executable).with_name("hf")


def page_ids(client, url):
    """Paper ids in the order an HTML page shows them."""
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r'id="paper-([^"]+)"', response.content.decode())


@pytest.fixture
def hf_api(live_server, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no saved token leaks in
    return HfApi(endpoint=live_server.url, token=False)


def test_it_serves_hf_api_the_papers_the_pages_show(hf_api, client, days):
    papers = list(hf_api.list_daily_papers(date=str(DAY)))
    assert [paper.id for paper in papers] == page_ids(client, f"/papers/date/{DAY}")
    top = papers[0]
    assert top.upvotes == 12 and top.title == days["top"].title
    assert [author.name for author in top.authors] == ["Ada Lovelace", "Alan Turing"]
    assert top.published_at == days["top"].published_at
    assert top.submitted_at.date() == DAY and top.submitted_by.username == "akhaliq"
    trending = list(hf_api.list_daily_papers(date=str(DAY), sort="trending"))
    assert {paper.id for paper in trending} == {paper.id for paper in papers}

    week = [paper.id for paper in hf_api.list_daily_papers(week="2026-W48")]
    assert week == page_ids(client, "/papers/week/2026-W48")
    info = hf_api.paper_info(days["mid"].arxiv_id)
    assert info.id == days["mid"].arxiv_id and info.upvotes == 5
    assert info.submitted_by.username == "alice"
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in days.values()])
    found = [paper.id for paper in hf_api.list_papers(query="attention part 3")]
    assert days["low"].arxiv_id in found and days["hidden"].arxiv_id not in found
    assert found == page_ids(client, "/search?q=attention+part+3")[: len(found)]

    with pytest.raises(HfHubHTTPError) as raised:
        hf_api.paper_info("2611.99999")
    assert raised.value.response.status_code == 404


def test_it_lists_papers_to_hf_api_without_a_query(hf_api, client, days, make_paper):
    """HfApi.list_papers() sends no q: the trending page's papers, then the newest others."""
    newest = make_paper(published_at=days["low"].published_at + dt.timedelta(days=3))
    older = make_paper(published_at=days["top"].published_at - dt.timedelta(days=30))
    trending = page_ids(client, "/papers/trending")
    assert len(trending) == 4  # the days' papers but the hidden one

    listed = [paper.id for paper in hf_api.list_papers()]
    assert listed == [*trending, newest.arxiv_id, older.arxiv_id]
    assert [paper.id for paper in hf_api.list_papers(limit=2)] == trending[:2]
    assert [paper.id for paper in hf_api.list_papers(limit=5)] == [*trending, newest.arxiv_id]
    blank = client.get("/api/papers/search", {"q": "  ", "limit": 3})
    assert [hit["paper"]["id"] for hit in blank.json()] == trending[:3]


def test_it_counts_the_comments_the_pages_show(hf_api, client, sample_data, bob):
    """numComments is the discussion a reader finds here: the paper page, the day's row and
    /stats agree with it; an imported upstream count (of a discussion held elsewhere) is not
    in it."""
    from django.core.cache import cache

    from dailypapers.ingest.sources.hf_daily import read_hf_daily
    from dailypapers.ingest.upsert import upsert_daily_records

    day = "2025-12-05"
    path = sample_data / "hf-daily-papers" / f"{day}.json"
    upsert_daily_records(read_hf_daily(path))
    upstream = max(json.loads(path.read_text()), key=lambda entry: entry["numComments"])
    arxiv_id = upstream["paper"]["id"]
    assert upstream["numComments"] == 3

    def counts():
        listed = {paper.id: paper.comments for paper in hf_api.list_daily_papers(date=day)}
        page = client.get(f"/papers/{arxiv_id}").content.decode()
        heading = re.search(r"<h2>Discussion(?: \((\d+)\))?</h2>", page).group(1) or 0
        row = client.get(f"/papers/date/{day}").content.decode()
        on_row = re.search(rf'href="/papers/{arxiv_id}#comments">(\d+) comment', row).group(1)
        cache.clear()  # /stats keeps its figures for a minute
        stats = client.get("/stats").content.decode()
        total = re.search(r"<dt>comments</dt><dd>(\d+)</dd>", stats).group(1)
        info = hf_api.paper_info(arxiv_id).comments
        return listed[arxiv_id], info, int(heading), int(on_row), int(total)

    assert counts() == (0, 0, 0, 0, 0)
    client.force_login(bob)
    posted = client.post(f"/papers/{arxiv_id}/comments", {"body": "Does this hold at 7B?"})
    assert posted.status_code == 302
    client.logout()
    assert counts() == (1, 1, 1, 1, 1)


def test_it_refuses_a_bad_date_to_hf_api_in_a_sentence(hf_api, db):
    with pytest.raises(HfHubHTTPError) as raised:
        list(hf_api.list_daily_papers(date="foo"))
    assert raised.value.response.status_code == 400
    assert "date must be YYYY-MM-DD, e.g. 2025-12-31, not 'foo'" in str(raised.value)
    assert "pattern" not in str(raised.value)


def run_hf(live_server, tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=live_server.url,
        HF_HOME=str(tmp_path),
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    return subprocess.run(
        [str(HF), "papers", *args], env=env, capture_output=True, text=True, timeout=60
    )


def hf_cli(live_server, tmp_path, *args):
    result = run_hf(live_server, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow  # three CLI processes (~15 s)
def test_it_prints_papers_with_the_hf_cli(live_server, tmp_path, client, days):
    listed = json.loads(hf_cli(live_server, tmp_path, "ls", "--date", str(DAY), "--format", "json"))
    assert [row["id"] for row in listed] == page_ids(client, f"/papers/date/{DAY}")
    assert listed[0]["upvotes"] == 12
    info = hf_cli(live_server, tmp_path, "info", days["top"].arxiv_id)
    assert days["top"].title in info and "Ada Lovelace" in info
    from dailypapers.search import index_papers

    index_papers([days["low"].pk])
    searched = hf_cli(live_server, tmp_path, "search", "attention part 3")
    assert days["low"].arxiv_id in searched


@pytest.mark.slow  # one CLI process (~5 s)
def test_it_tells_the_hf_cli_what_a_date_looks_like(live_server, tmp_path, db):
    result = run_hf(live_server, tmp_path, "ls", "--date", "foo")
    assert result.returncode != 0
    assert "date must be YYYY-MM-DD, e.g. 2025-12-31, not 'foo'" in result.stderr
    assert "pattern" not in result.stderr and "Traceback" not in result.stderr
