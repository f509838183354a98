import datetime as dt
import json

import pytest
from django.utils import timezone

from dailypapers.accounts.models import ApiToken
from dailypapers.accounts.services import TokenError, token_create, token_revoke
from dailypapers.papers.models import DailyEntry, Vote

pytestmark = pytest.mark.django_db


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_it_stores_only_a_hash_of_the_token(alice):
    token, secret = token_create(user=alice, name="script", scopes=["vote"])
    assert secret.startswith("dp_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix) and stored.digest != secret
    assert secret.startswith(stored.prefix)


def test_it_refuses_unnamed_or_unknown_scope_tokens(alice):
    with pytest.raises(TokenError, match="name"):
        token_create(user=alice, name=" ", scopes=["vote"])
    with pytest.raises(TokenError, match="scope"):
        token_create(user=alice, name="x", scopes=["admin"])


def test_it_upvotes_and_unupvotes_with_a_vote_token(client, alice, make_paper):
    paper = make_paper(imported_upvotes=3)
    _, secret = token_create(user=alice, name="voter", scopes=["vote"])
    url = f"/api/papers/{paper.arxiv_id}/upvote"
    response = client.post(url, **bearer(secret))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": paper.arxiv_id, "upvotes": 4, "upvoted": True, "changed": True}
    assert client.post(url, **bearer(secret)).json()["changed"] is False
    assert Vote.objects.filter(user=alice, paper=paper).count() == 1
    response = client.delete(url, **bearer(secret))
    assert response.json()["upvotes"] == 3 and response.json()["upvoted"] is False


def test_it_answers_401_without_a_valid_token_and_after_revocation(client, alice, make_paper):
    paper = make_paper()
    url = f"/api/papers/{paper.arxiv_id}/upvote"
    assert client.post(url).status_code == 401
    assert client.post(url, **bearer("dp_not-a-token")).status_code == 401
    token, secret = token_create(user=alice, name="voter", scopes=["vote"])
    assert client.post(url, **bearer(secret)).status_code == 200
    assert token_revoke(user=alice, token_id=token.pk)
    response = client.post(url, **bearer(secret))
    assert response.status_code == 401
    assert "token" in response.json()["error"] and response["WWW-Authenticate"] == "Bearer"


def test_it_answers_403_when_the_token_lacks_the_scope(client, alice, make_paper):
    paper = make_paper()
    _, secret = token_create(user=alice, name="reader", scopes=["read"])
    response = client.post(f"/api/papers/{paper.arxiv_id}/upvote", **bearer(secret))
    assert response.status_code == 403 and "vote" in response.json()["error"]
    assert not Vote.objects.exists()


def test_it_submits_a_paper_and_explains_refusals(client, alice, make_paper):
    paper = make_paper(published_at=timezone.now() - dt.timedelta(days=2))
    _, secret = token_create(user=alice, name="submitter", scopes=["submit"])

    def submit(arxiv_id):
        body = json.dumps({"id": arxiv_id})
        return client.post(
            "/api/papers/submit", body, content_type="application/json", **bearer(secret)
        )

    response = submit(f"https://arxiv.org/abs/{paper.arxiv_id}v2")
    assert response.status_code == 201, response.content
    assert response.json()["paper"]["id"] == paper.arxiv_id
    assert response.json()["submittedBy"]["user"] == "alice"
    assert DailyEntry.objects.get(paper=paper).submitted_by == alice
    again = submit(paper.arxiv_id)
    assert again.status_code == 400 and again.json()["field"] == "id"
    assert "already" in again.json()["error"]
    malformed = submit("not an id")
    assert malformed.status_code == 400 and malformed.json()["field"] == "id"


def test_it_rate_limits_submissions_with_retry_after(client, alice, make_paper, settings):
    settings.SUBMISSIONS_PER_DAY = 1
    first, second = make_paper(), make_paper()
    _, secret = token_create(user=alice, name="submitter", scopes=["submit"])
    for paper, status in ((first, 201), (second, 429)):
        response = client.post(
            "/api/papers/submit",
            json.dumps({"id": paper.arxiv_id}),
            content_type="application/json",
            **bearer(secret),
        )
        assert response.status_code == status
    assert response["Retry-After"] == "86400"


def test_it_counts_token_requests_apart_from_the_ip(client, alice, days, settings):
    settings.API_RATE_ANON, settings.API_RATE_TOKEN = 1, 3
    _, secret = token_create(user=alice, name="reader", scopes=["read"])
    assert client.get("/api/daily_papers").status_code == 200
    assert client.get("/api/daily_papers").status_code == 429
    statuses = [client.get("/api/daily_papers", **bearer(secret)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_it_creates_and_revokes_tokens_on_the_settings_page(client, alice):
    assert client.get("/settings/tokens").status_code == 302  # sign in first
    client.force_login(alice)
    response = client.post("/settings/tokens", {"name": "laptop", "scopes": ["read", "vote"]})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=alice)
    secret = response.context["secret"]
    assert secret.startswith(token.prefix) and secret.encode() in response.content
    assert token.scopes == ["read", "vote"]
    assert secret.encode() not in client.get("/settings/tokens").content  # shown once
    client.post(f"/settings/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = client.post("/settings/tokens", {"name": "", "scopes": ["read"]})
    assert refused.status_code == 400 and b"name" in refused.content


def test_it_recommends_for_the_token_member_privately(client, alice, days):
    from dailypapers.papers.services import vote_cast
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in days.values()])
    vote_cast(user=alice, paper=days["top"])
    _, secret = token_create(user=alice, name="reader", scopes=["read"])
    response = client.get("/api/for_you", {"limit": 3}, **bearer(secret))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "private, no-store"
    picks = response.json()
    assert all(pick["reason"] for pick in picks)
    assert days["hidden"].arxiv_id not in {pick["id"] for pick in picks}
    assert client.get("/api/for_you").status_code == 401


def test_it_queues_a_submission_arxiv_cannot_answer(client, alice, settings, tmp_path):
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on: arXiv unreachable
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.DATA_DIR, settings.ARXIV_API_URL = tmp_path, f"http://127.0.0.1:{port}/api/query"
    _, secret = token_create(user=alice, name="submitter", scopes=["submit"])
    started = time.monotonic()
    response = client.post(
        "/api/papers/submit",
        json.dumps({"id": "https://arxiv.org/abs/2611.00777"}),
        content_type="application/json",
        **bearer(secret),
    )
    assert time.monotonic() - started < 8
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["status"]) == ("2611.00777", "queued")
    assert "arXiv did not answer in time" in body["message"]
    assert "Arxiv" not in response.content.decode() and "Error" not in response.content.decode()
    assert not DailyEntry.objects.exists()
