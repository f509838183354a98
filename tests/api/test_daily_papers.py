import datetime as dt

import pytest

from .conftest import DAY

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [entry["paper"]["id"] for entry in response.json()]


def test_it_lists_a_day_as_the_daily_page_ranks_it(client, days):
    response = client.get("/api/daily_papers", {"date": str(DAY)})
    assert ids(response) == [days["top"].arxiv_id, days["mid"].arxiv_id, days["low"].arxiv_id]
    entry = response.json()[0]
    assert entry["paper"]["upvotes"] == 12
    assert entry["paper"]["authors"][0]["name"] == "Ada Lovelace"
    assert {"_id", "name", "hidden"} <= set(entry["paper"]["authors"][0])
    assert entry["paper"]["publishedAt"] == "2026-11-18T18:00:00.000Z"
    assert entry["publishedAt"] == f"{DAY}T09:00:00.000Z"
    assert entry["submittedBy"]["user"] == "akhaliq"
    assert entry["title"] == days["top"].title and entry["numComments"] == 0


def test_it_sorts_by_published_date_and_by_trending(client, days):
    by_date = ids(client.get("/api/daily_papers", {"date": str(DAY), "sort": "publishedAt"}))
    assert by_date == [days["low"].arxiv_id, days["mid"].arxiv_id, days["top"].arxiv_id]
    trending = ids(client.get("/api/daily_papers", {"date": str(DAY), "sort": "trending"}))
    assert trending[0] == days["top"].arxiv_id


def test_it_gathers_a_week_and_a_month(client, days):
    week = ids(client.get("/api/daily_papers", {"week": "2026-W48"}))
    assert week[0] == days["yesterday"].arxiv_id and len(week) == 4
    assert ids(client.get("/api/daily_papers", {"month": "2026-11"})) == week
    assert ids(client.get("/api/daily_papers", {"month": "2026-10"})) == []


def test_it_pages_and_filters_by_submitter(client, days, alice):
    first = ids(client.get("/api/daily_papers", {"date": str(DAY), "limit": 2}))
    second = ids(client.get("/api/daily_papers", {"date": str(DAY), "limit": 2, "p": 1}))
    assert first + second == ids(client.get("/api/daily_papers", {"date": str(DAY)}))
    assert ids(client.get("/api/daily_papers", {"submitter": "akhaliq"})) == [days["top"].arxiv_id]
    assert ids(client.get("/api/daily_papers", {"submitter": "alice", "week": "2026-W48"})) == [
        days["mid"].arxiv_id
    ]


def test_it_lists_every_day_newest_first_without_a_period(client, days):
    everything = ids(client.get("/api/daily_papers"))
    assert everything[:3] == ids(client.get("/api/daily_papers", {"date": str(DAY)}))
    assert everything[3] == days["yesterday"].arxiv_id
    assert days["hidden"].arxiv_id not in everything


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"p": -1}, "p"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"week": "2026-W54"}, "week"),
        ({"month": "2026-13"}, "month"),
        ({"date": "2026-11-24", "week": "2026-W48"}, "week"),
        ({"sort": "upvotes"}, "sort"),
        ({"submitter": "a b"}, "submitter"),
    ],
)
def test_it_rejects_bad_parameters_with_the_field(client, db, params, field):
    response = client.get("/api/daily_papers", params)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"]


def test_it_answers_304_to_a_conditional_get(client, days):
    response = client.get("/api/daily_papers", {"date": str(DAY)})
    assert response["Cache-Control"].startswith("public, max-age=")
    etag, modified = response["ETag"], response["Last-Modified"]
    again = client.get("/api/daily_papers", {"date": str(DAY)}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    since = client.get("/api/daily_papers", {"date": str(DAY)}, HTTP_IF_MODIFIED_SINCE=modified)
    assert since.status_code == 304


def test_it_changes_the_etag_when_a_vote_changes_the_answer(client, days, bob):
    from dailypapers.papers.services import vote_cast

    etag = client.get("/api/daily_papers", {"date": str(DAY)})["ETag"]
    vote_cast(user=bob, paper=days["low"])
    again = client.get("/api/daily_papers", {"date": str(DAY)}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_it_limits_requests_per_ip_with_retry_after(client, days, settings):
    settings.API_RATE_ANON = 3
    for _ in range(3):
        assert client.get("/api/daily_papers").status_code == 200
    response = client.get("/api/daily_papers")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many requests" in response.json()["error"]
    other_ip = client.get("/api/daily_papers", REMOTE_ADDR="10.0.0.2")
    assert other_ip.status_code == 200


def test_it_serves_future_days_empty_not_failing(client, days):
    future = DAY + dt.timedelta(days=400)
    assert ids(client.get("/api/daily_papers", {"date": str(future)})) == []
