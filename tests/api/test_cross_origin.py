"""The API and the feeds, read from a web page on another site (CORS) and gzipped."""

import gzip
import json

import pytest

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "https://lab.example.org"}


def test_any_origin_may_read_the_api_and_the_feeds_but_not_the_pages(client, days):
    api = client.get("/api/daily_papers", {"limit": 1}, **ORIGIN)
    assert api["Access-Control-Allow-Origin"] == "*"
    assert "Link" in api["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in api  # a member's cookies are not lent
    assert client.get("/feeds/daily.atom", **ORIGIN)["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/", **ORIGIN)


def test_a_preflight_lets_a_page_send_its_token(client, days):
    response = client.options(
        f"/api/papers/{days['top'].arxiv_id}/upvote",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
        **ORIGIN,
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_an_options_that_is_not_a_preflight_is_still_refused_in_json(client):
    response = client.options("/api/daily_papers")
    assert response.status_code == 405 and "is not allowed" in response.json()["error"]


def test_answers_are_gzipped_for_clients_that_accept_it_and_still_revalidate(client, days):
    plain = client.get("/api/daily_papers", {"limit": 50})
    assert "Content-Encoding" not in plain
    zipped = client.get("/api/daily_papers", {"limit": 50}, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    again = client.get(
        "/api/daily_papers",
        {"limit": 50},
        HTTP_ACCEPT_ENCODING="gzip",
        HTTP_IF_NONE_MATCH=zipped["ETag"],
    )
    assert again.status_code == 304


def test_a_part_of_a_paper_the_api_lacks_is_a_404_not_a_bad_id(client, days):
    response = client.get(f"/api/papers/{days['top'].arxiv_id}/comments")
    assert response.status_code == 404
    assert response.json()["error"].startswith("No API endpoint at /api/papers/")
    assert client.get("/api/papers/hep-th/9901001").status_code == 404  # an old id: no paper
