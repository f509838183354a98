import datetime as dt

import pytest
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Paper

from .conftest import fake_arxiv, paper_record


@pytest.fixture
def member(client, alice):
    client.force_login(alice)
    return alice


def submit(client, text):
    return client.post("/submit", {"arxiv_id": text})


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/submit")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_fetches_an_unknown_paper_and_features_it_today(client, member, patch_arxiv):
    fetch = patch_arxiv(fake_arxiv({"2611.04242": paper_record("2611.04242")}))
    response = submit(client, "https://arxiv.org/abs/2611.04242v2")
    today = timezone.localdate()
    assert response.status_code == 302
    assert response["Location"] == f"/papers/date/{today}#paper-2611.04242"
    assert fetch.calls == [["2611.04242"]]
    entry = DailyEntry.objects.get(paper__arxiv_id="2611.04242")
    assert (entry.day, entry.submitted_by, entry.source) == (today, member, "member")
    page = client.get(response["Location"]).content.decode()
    assert "Fetched from arXiv" in page and "is on today’s page" in page


def test_it_features_a_known_paper_without_asking_arxiv(client, member, make_paper, patch_arxiv):
    fetch = patch_arxiv(fake_arxiv())
    paper = make_paper()
    assert submit(client, f"arXiv:{paper.arxiv_id}").status_code == 302
    assert fetch.calls == [] and paper.daily_entries.count() == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "This field is required"),
        ("not an id", "is not an arXiv id"),
        ("2613.00001", "is not a month"),
        ("x" * 301, "at most 300 characters"),
        ("２６１１．０００１", "is not an arXiv id"),
        ("<script>alert(1)</script>", "is not an arXiv id"),
    ],
)
def test_it_explains_malformed_ids(client, member, text, message):
    response = submit(client, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "<script>alert" not in html
    assert not DailyEntry.objects.exists()


def test_it_explains_ids_arxiv_does_not_have(client, member, patch_arxiv):
    patch_arxiv(fake_arxiv({}))
    response = submit(client, "2611.00404")
    assert response.status_code == 400
    assert "arXiv has no paper 2611.00404" in response.content.decode()
    assert not Paper.objects.exists()


def test_it_keeps_nothing_when_arxiv_fails(client, member, patch_arxiv):
    patch_arxiv(fake_arxiv(error=TimeoutError("slow")))
    response = submit(client, "2611.00500")
    assert response.status_code == 400
    assert "could not be reached" in response.content.decode()
    assert not Paper.objects.exists() and not DailyEntry.objects.exists()


def test_it_refuses_old_and_duplicate_papers(client, member, make_paper, feature):
    old = make_paper(published_at=timezone.now() - dt.timedelta(days=400))
    assert "only papers from the last" in submit(client, old.arxiv_id).content.decode()
    featured = make_paper()
    feature(featured, day=dt.date(2026, 11, 20))
    response = submit(client, featured.arxiv_id)
    assert response.status_code == 400
    assert "already on the daily page of 2026-11-20" in response.content.decode()
    assert DailyEntry.objects.count() == 1


def test_it_caps_submissions_per_day(client, member, make_paper, settings):
    settings.SUBMISSIONS_PER_DAY = 2
    papers = [make_paper() for _ in range(3)]
    assert [submit(client, p.arxiv_id).status_code for p in papers] == [302, 302, 429]
    assert "2 papers a day" in submit(client, papers[2].arxiv_id).content.decode()
    assert DailyEntry.objects.count() == 2


def test_it_prefills_the_form_from_a_link(client, member):
    html = client.get("/submit?arxiv_id=2611.01234").content.decode()
    assert 'value="2611.01234"' in html and "csrfmiddlewaretoken" in html
