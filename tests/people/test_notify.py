"""Members hear of new papers by the authors they follow, on the site, once."""

import dataclasses

import pytest

from dailypapers.digests.services import follow_add
from dailypapers.ingest.upsert import upsert_records
from dailypapers.notifications.models import Notification
from dailypapers.papers.models import Author, Paper
from dailypapers.people.services import authors_merge
from tests.web.conftest import paper_record


def ingest(django_capture_on_commit_callbacks, *records):
    with django_capture_on_commit_callbacks(execute=True):  # papers_changed fires on commit
        upsert_records(records)


def record(arxiv_id, authors, days_old=1, title="A fresh result"):
    made = paper_record(arxiv_id, days_old=days_old, title=title)
    return dataclasses.replace(made, authors=[{"name": name} for name in authors])


@pytest.fixture
def fan(alice, db):
    follow_add(user=alice, kind="author", value="Ada Lovelace")
    return alice


def test_it_notifies_followers_of_an_authors_new_papers_once(
    fan, bob, django_capture_on_commit_callbacks
):
    ingest(
        django_capture_on_commit_callbacks,
        record("2611.00001", ["Alan Turing", "Ada Lovelace"], title="Engines"),
        record("2611.00002", ["Alan Turing"], title="Not hers"),
        record("2611.00003", ["Ada Lovelace"], days_old=30, title="An old one, just ingested"),
    )
    [told] = Notification.objects.all()
    assert (told.user, told.kind, told.paper.arxiv_id) == (fan, "author_paper", "2611.00001")
    assert told.text == "Ada Lovelace: Engines"
    # a new version of the same paper is ingested: no second notification
    ingest(django_capture_on_commit_callbacks, record("2611.00001", ["Ada Lovelace"], title="v2"))
    assert Notification.objects.count() == 1
    assert "Ada Lovelace: Engines" in _page(fan)


def _page(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get("/notifications").content.decode()


def test_a_merged_spelling_counts_as_the_followed_author(
    fan, moderator, django_capture_on_commit_callbacks
):
    Author.objects.create(name="Ada Lovelace")
    initials = Author.objects.create(name="A. Lovelace")
    authors_merge(
        moderator=moderator, canonical=Author.objects.get(name="Ada Lovelace"), variants=[initials]
    )
    ingest(django_capture_on_commit_callbacks, record("2611.00004", ["A. Lovelace"]))
    assert Notification.objects.get().paper == Paper.objects.get(arxiv_id="2611.00004")


def test_nobody_is_told_when_nobody_follows(alice, django_capture_on_commit_callbacks):
    ingest(django_capture_on_commit_callbacks, record("2611.00005", ["Ada Lovelace"]))
    assert not Notification.objects.exists()
