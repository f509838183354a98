"""Shared fixtures: a small fixed cast of users, and real data: the small slices committed
under tests/data (enough for the default run on a fresh clone) and, for the few tests that
need the full sets, ../shared/data (those skip when it is absent)."""

import datetime as dt
import faulthandler
import os
from pathlib import Path

import pytest
from django.utils import timezone

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO / "tests" / "data"  # real slices of ../shared/data, see its README
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED_DATA_ABSENT = (
    f"../shared/data is absent: {SHARED_DATA} holds the full real data set this test needs "
    "(a fresh clone runs on the slices in tests/data; see tests/data/README.md)"
)

# Playwright drives Django's live server from a thread: allow the ORM there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# On PostgreSQL (libpq reads PGOPTIONS, in this process and the servers tests start): a
# statement that runs for minutes is a bug, and pytest-timeout fails its test without
# cancelling it, so its locks would block every test after it.
os.environ.setdefault("PGOPTIONS", "-c statement_timeout=120s")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # PBKDF2's many rounds cost ~1 s per user on a busy machine; tests need no security here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_new_member_wait(settings):
    # The cast's accounts are seconds old; tests of the wait itself (tests/community) set it.
    settings.NEW_MEMBER_WAIT_HOURS = 0


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()  # page fragments and rate-limit counters live in the process, across tests
    from dailypapers.search import related

    related.forget_frequencies()  # the random sample of papers is per process, not per test


@pytest.fixture
def fresh_search_dir(settings, tmp_path):
    """A fresh search index for the test (the search app keeps it in files, and its vector
    stores and acronyms in the process)."""
    from dailypapers.search import acronyms, vectors

    settings.SEARCH_DIR = tmp_path / "search"
    vectors.reset_stores()
    acronyms.reset_cache()
    yield settings.SEARCH_DIR
    vectors.reset_stores()
    acronyms.reset_cache()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "shared_data: needs the full real data set in ../shared/data (skips if absent)"
    )
    global _real_stderr
    _real_stderr = os.dup(2)  # here fd 2 is still the terminal (or CI's log), not a capture


# pytest-timeout's signal reaches a test only between Python bytecodes: a test stuck in
# native code (a lock in a Rust library) would hang the run until CI's own limit, with no
# clue where. faulthandler's watchdog is a C thread: past this it prints every thread's
# stack and ends the run.
NATIVE_HANG_SECONDS = 420
_real_stderr = 2


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(NATIVE_HANG_SECONDS, exit=True, file=_real_stderr)
    try:
        return (yield)
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_runtest_setup(item):
    if item.get_closest_marker("shared_data") and not SHARED_DATA.is_dir():
        pytest.skip(SHARED_DATA_ABSENT)


@pytest.fixture
def sample_data():
    """The real data slices committed under tests/data (same layout as ../shared/data)."""
    return SAMPLE_DATA


@pytest.fixture
def shared_data():
    """The full real data set; the test skips with a clear reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(SHARED_DATA_ABSENT)
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


@pytest.fixture
def encoded(monkeypatch):
    """The texts the embedder is asked to encode, in order."""
    from dailypapers.search import embedders

    texts = []
    embedder = embedders.get_embedder()
    original = embedder.encode

    def encode(batch):
        batch = list(batch)
        texts.extend(batch)
        return original(batch)

    monkeypatch.setattr(embedder, "encode", encode)
    return texts
