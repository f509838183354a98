import json

import feedparser
import pytest

from dailypapers.accounts.services import token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(alice):
    _, secret = token_create(user=alice, name="digests", scopes=["subscriptions"])
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def send(client, method, url, body, auth):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **auth)


def test_it_follows_and_unfollows_with_feeds(client, auth, days):
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in days.values()])
    made = send(client, "post", "/api/follows", {"kind": "topic", "value": "attention"}, auth)
    assert made.status_code == 201, made.content
    assert made.json()["feed"].endswith("/feeds/topic/attention.atom")
    send(client, "post", "/api/follows", {"kind": "category", "value": "cs.CL"}, auth)
    listed = client.get("/api/follows", **auth).json()
    assert [(f["kind"], f["value"]) for f in listed] == [
        ("category", "cs.CL"),
        ("topic", "attention"),
    ]
    for follow in listed:
        path = follow["feed"].split("://", 1)[1].split("/", 1)[1]
        feed = feedparser.parse(client.get(f"/{path}").content)
        assert not feed.bozo and feed.entries
    left = client.delete("/api/follows?kind=topic&value=attention", **auth).json()
    assert [f["value"] for f in left] == ["cs.CL"]


def test_it_explains_refused_follows(client, auth):
    bad = send(client, "post", "/api/follows", {"kind": "category", "value": "not a cat"}, auth)
    assert bad.status_code == 400 and "category" in bad.json()["error"]
    wrong_kind = send(client, "post", "/api/follows", {"kind": "planet", "value": "x"}, auth)
    assert wrong_kind.status_code == 400 and wrong_kind.json()["field"] == "kind"


def test_a_category_must_be_of_an_arxiv_archive_or_of_a_paper_here(client, auth, days):
    bad = send(client, "post", "/api/follows", {"kind": "category", "value": "nonsense"}, auth)
    assert bad.status_code == 400
    assert bad.json()["error"] == "'nonsense' is not an arXiv category such as cs.CL or math."
    for category in ["math", "q-bio.NC", "hep-th"]:
        body = {"kind": "category", "value": category}
        assert send(client, "post", "/api/follows", body, auth).status_code == 201, category
    days["top"].primary_category = "cmp-lg"  # an archive arXiv retired, in an old paper
    days["top"].save(update_fields=["primary_category"])
    body = {"kind": "category", "value": "cmp-lg"}
    assert send(client, "post", "/api/follows", body, auth).status_code == 201


def test_it_sets_the_digest_and_asks_to_confirm_a_new_address(client, auth):
    assert client.get("/api/subscription", **auth).json()["status"] == "none"
    body = {"email": "alice.work@example.org", "frequency": "weekly"}
    response = send(client, "put", "/api/subscription", body, auth)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["frequency"] == "weekly" and data["status"] == "pending"
    # The account's own address, confirmed at sign-up, needs no second link.
    body = {"email": "alice@example.org", "frequency": "weekly"}
    own = send(client, "put", "/api/subscription", body, auth).json()
    assert (own["email"], own["status"]) == ("alice@example.org", "active")
    off = send(client, "put", "/api/subscription", {"frequency": "off"}, auth)
    assert off.json()["frequency"] == "off"


def test_it_needs_the_subscriptions_scope(client, alice):
    _, secret = token_create(user=alice, name="votes only", scopes=["vote"])
    response = client.get("/api/follows", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
