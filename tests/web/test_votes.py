import pytest

from dailypapers.papers.models import Vote

from .conftest import DAY


def vote(client, paper, action="cast", htmx=False, **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"action": action, **extra}
    return client.post(f"/papers/{paper.arxiv_id}/vote", data, headers=headers)


def test_it_sends_anonymous_voters_to_sign_in(client, day_of_papers):
    html = client.get("/").content.decode()
    assert 'title="Sign in to upvote"' in html and "hx-post" not in html
    response = vote(client, day_of_papers[0], next="/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Vote.objects.exists()


def test_it_upvotes_and_retracts_with_a_plain_form(client, alice, day_of_papers):
    paper = day_of_papers[0]  # 5 imported upvotes
    client.force_login(alice)
    response = vote(client, paper, next=f"/papers/date/{DAY}")
    assert response.status_code == 302 and response["Location"] == f"/papers/date/{DAY}"
    paper.refresh_from_db()
    assert paper.upvotes == 6
    html = client.get(f"/papers/date/{DAY}").content.decode()
    assert 'class="upvote on"' in html and '<span class="count">6</span>' in html
    vote(client, paper, action="retract")
    paper.refresh_from_db()
    assert paper.upvotes == 5 and not Vote.objects.exists()


def test_it_swaps_the_button_for_htmx(client, alice, day_of_papers):
    paper = day_of_papers[0]
    client.force_login(alice)
    response = vote(client, paper, htmx=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<div class="vote" id="vote-{paper.pk}">')
    assert 'class="upvote on"' in html and '<span class="count">6</span>' in html
    assert 'value="retract"' in html
    html = vote(client, paper, action="retract", htmx=True).content.decode()
    assert '<span class="count">5</span>' in html and 'value="cast"' in html


def test_it_refuses_to_redirect_elsewhere(client, alice, day_of_papers):
    client.force_login(alice)
    response = vote(client, day_of_papers[0], next="https://evil.example/")
    assert response["Location"] == f"/papers/{day_of_papers[0].arxiv_id}"


@pytest.mark.parametrize("htmx", [False, True])
def test_it_says_clearly_when_a_member_votes_too_much(client, alice, day_of_papers, settings, htmx):
    settings.VOTES_PER_HOUR = 1
    client.force_login(alice)
    vote(client, day_of_papers[0])
    response = vote(client, day_of_papers[1], htmx=htmx)
    assert response.status_code == 429
    assert "Too many votes" in response.content.decode()
    assert Vote.objects.count() == 1


def test_it_needs_a_csrf_token_and_a_post(alice, day_of_papers, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = vote(strict, day_of_papers[0])
    assert response.status_code == 403 and "The form expired" in response.content.decode()
    client.force_login(alice)
    assert client.get(f"/papers/{day_of_papers[0].arxiv_id}/vote").status_code == 405
    assert not Vote.objects.exists()


def test_it_answers_404_for_votes_on_unknown_papers(client, alice, db):
    client.force_login(alice)
    assert client.post("/papers/2611.99999/vote").status_code == 404
    assert client.post("/papers/<script>/vote").status_code == 404


def test_it_shows_each_member_their_own_votes_from_the_shared_rows(
    client, alice, bob, day_of_papers
):
    client.force_login(alice)
    vote(client, day_of_papers[0])
    assert 'class="upvote on"' in client.get(f"/papers/date/{DAY}").content.decode()
    client.force_login(bob)
    html = client.get(f"/papers/date/{DAY}").content.decode()
    assert 'class="upvote on"' not in html and '<span class="count">6</span>' in html
    assert html.count('form="vote-form"') == 3 and html.count('id="vote-form"') == 1
