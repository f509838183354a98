"""Shared fixtures: a small fixed cast of users and real papers from ../shared/data."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

# Playwright drives Django's live server from a thread: allow the ORM there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # PBKDF2's many rounds cost ~1 s per user on a busy machine; tests need no security here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()  # page fragments and rate-limit counters live in the process, across tests


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the real data set is missing: {SHARED_DATA} (see README, 'Tests')")
    return SHARED_DATA


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "correct horse 1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", "battery staple 2")


@pytest.fixture
def make_paper(db):
    """Create a paper with sensible defaults; keyword arguments override fields."""
    from dailypapers.papers.models import Paper

    counter = iter(range(1, 100_000))

    def make(**fields):
        number = next(counter)
        fields.setdefault("arxiv_id", f"2611.{number:05d}")
        fields.setdefault("title", f"A paper about attention, part {number}")
        fields.setdefault("abstract", "We study attention. " * 5)
        fields.setdefault("authors", [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}])
        fields.setdefault("categories", ["cs.CL"])
        fields.setdefault("primary_category", fields["categories"][0])
        fields.setdefault("published_at", timezone.now() - dt.timedelta(days=1))
        return Paper.objects.create(**fields)

    return make
