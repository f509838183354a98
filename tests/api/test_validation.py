"""Bad parameters are refused in sentences a caller can act on, never in the validator's
words (no "String should match pattern '^\\d{4}...'", no "Input should be ...")."""

import json

import pytest

from dailypapers.accounts.services import token_create
from dailypapers.api.params import FORMATS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url, params, field, message",
    [
        (
            "/api/daily_papers",
            {"date": "foo"},
            "date",
            "date must be YYYY-MM-DD, e.g. 2025-12-31, not 'foo'",
        ),
        (
            "/api/daily_papers",
            {"week": "2025-52"},
            "week",
            "week must be an ISO week as YYYY-Www, e.g. 2025-W52, not '2025-52'",
        ),
        ("/api/daily_papers", {"month": "12/2025"}, "month", "month must be YYYY-MM, e.g. 2025-12"),
        (
            "/api/daily_papers",
            {"submitter": "a b"},
            "submitter",
            "submitter must be a username: at most 100 letters, digits, '.', '_' or '-'",
        ),
        (
            "/api/daily_papers",
            {"sort": "upvotes"},
            "sort",
            "sort must be 'publishedAt' or 'trending', not 'upvotes'",
        ),
        ("/api/daily_papers", {"limit": "0"}, "limit", "limit must be at least 1, not 0"),
        ("/api/daily_papers", {"limit": "many"}, "limit", "limit must be a whole number"),
        ("/api/daily_papers", {"p": "-1"}, "p", "p must be at least 0, not -1"),
        ("/api/papers", {"limit": "101"}, "limit", "limit must be at most 100, not 101"),
        ("/api/papers", {"cursor": "@@"}, "cursor", "cursor must be a cursor this server gave"),
        (
            "/api/papers/search",
            {"q": "a\x01b"},
            "q",
            "q must be printable text, without control characters",
        ),
        ("/api/papers/search", {"q": "a" * 501}, "q", "q must be at most 500 characters long"),
        ("/api/trending", {"p": "1.5"}, "p", "p must be a whole number, not 1.5"),
        ("/api/suggestions", {}, "date", "date is required"),
        ("/api/suggestions", {"date": "31.12.2025"}, "date", "date must be YYYY-MM-DD, e.g."),
    ],
)
def test_it_refuses_bad_parameters_in_sentences(client, url, params, field, message):
    response = client.get(url, params)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(message)


def test_it_refuses_bad_bodies_in_sentences(client, alice):
    _, secret = token_create(user=alice, name="digests", scopes=["subscriptions"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def post(body):
        answer = client.post("/api/follows", body, content_type="application/json", **auth)
        assert answer.status_code == 400
        return answer.json()

    assert post(json.dumps({"kind": "person", "value": "x"})) == {
        "error": "kind must be 'topic', 'author' or 'category'",
        "field": "kind",
    }
    assert post(json.dumps({"kind": "topic", "value": ""}))["error"] == (
        "value must be given, not empty"
    )
    assert post(json.dumps({"kind": "topic"}))["error"] == "value is required"
    assert post("")["error"] == "The request body is required"
    assert post("{kind: topic}")["error"].startswith("The request body must be JSON")


def test_every_format_the_api_asks_for_is_explained(client):
    """A pattern without a sentence in params.FORMATS would be refused in vaguer words."""
    schema = client.get("/api/openapi.json").json()
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert found and found <= FORMATS.keys()
