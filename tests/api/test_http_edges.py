"""What a new user's curl and huggingface_hub met at the edges of the API: every answer is
JSON with a sentence (never an HTML page, never a 500 for a bad parameter), HEAD works
wherever GET does, and a 429 says how long to wait."""

import pytest
from django.test import Client

from dailypapers.api import papers as api_papers

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params, field, message",
    [
        (
            {"week": "9999-W52"},
            "week",
            "week 52 of 9999 ends after 9999-12-31, the last day this server knows",
        ),
        ({"week": "2025-W54"}, "week", "2025 has no ISO week 54"),
        ({"month": "2025-13"}, "month", "2025-13 is not a month"),
        ({"month": "0000-12"}, "month", "0000-12 is not a month"),
    ],
)
def test_a_period_that_cannot_be_is_a_400_with_a_sentence(client, params, field, message):
    response = client.get("/api/daily_papers", params)
    assert response.status_code == 400
    assert response.json() == {"error": message, "field": field}


def test_the_last_month_dates_can_hold_is_served_empty(client):
    response = client.get("/api/daily_papers", {"month": "9999-12"})
    assert response.status_code == 200 and response.json() == []


def test_head_answers_as_get_without_the_body(client, days):
    paper = days["top"].arxiv_id
    get = client.get(f"/api/papers/{paper}")
    head = client.head(f"/api/papers/{paper}")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == get["ETag"] and head["Content-Type"] == "application/json"
    assert client.head("/api/daily_papers", {"limit": "0"}).status_code == 400


def test_a_method_an_endpoint_lacks_is_a_json_405_naming_the_allowed_ones(client):
    response = client.post("/api/daily_papers")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "POST is not allowed on /api/daily_papers; use GET, HEAD."}
    assert client.put("/api/papers/submit").json()["error"].endswith("use POST.")


def test_the_api_root_is_a_json_404_pointing_to_the_docs(client):
    response = client.get("/api/")
    assert response.status_code == 404
    assert response.json() == {"error": "No API endpoint at /api/; see /api/docs."}


def test_an_unexpected_failure_is_a_json_500_not_the_html_page(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(api_papers.queries, "categories", broken)
    response = Client(raise_request_exception=False).get("/api/categories")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "went wrong on our side" in response.json()["error"]


def test_a_429_says_in_its_sentence_how_long_to_wait(client, settings):
    settings.API_RATE_ANON = 1
    client.get("/api/categories")
    response = client.get("/api/categories")
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    expected = f"retry in {seconds} second{'s' if seconds != 1 else ''}."
    assert response.json()["error"].endswith(expected)
