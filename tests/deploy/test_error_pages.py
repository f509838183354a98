"""An error that escapes every view: 503 with Retry-After and a clear message when the
database is the cause (HTML for pages, JSON under /api/), the usual 500 page otherwise."""

import pytest
from django.db.utils import InterfaceError, OperationalError
from django.test import Client

from dailypapers.caching import generation, middleware


@pytest.fixture
def failing_database(monkeypatch):
    def fail_with(error):
        def current():
            raise error

        monkeypatch.setattr(middleware, "current", current)  # pages
        monkeypatch.setattr(generation, "current", current)  # API answers

    return fail_with


@pytest.fixture
def reader():
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_database_that_does_not_answer_gives_503_and_says_so(failing_database, reader, error):
    failing_database(error)
    page = reader.get("/")
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "database is not answering" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    answer = reader.get("/api/daily_papers")
    assert answer.status_code == 503 and "database is not answering" in answer.json()["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "message", ["attempt to write a readonly database", "database or disk is full"]
)
def test_a_disk_that_cannot_be_written_says_the_change_was_not_saved(
    failing_database, reader, message
):
    failing_database(OperationalError(message))
    page = reader.get("/papers/trending")
    assert page.status_code == 503
    assert "cannot save changes right now" in page.content.decode()


@pytest.mark.django_db
def test_other_errors_keep_the_500_page(failing_database, reader):
    failing_database(ZeroDivisionError("a bug"))
    page = reader.get("/")
    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
