"""`dailypapers demo` (what `make run` runs): a visitor's new account may comment at once."""

import io
import os

import pytest
from django.conf import settings as django_settings

from dailypapers.community.services import new_member_ready_at
from dailypapers.web.management.commands.demo import Command

pytestmark = pytest.mark.django_db
WAIT = "DAILYPAPERS_NEW_MEMBER_WAIT_HOURS"


def before_serving():
    out = io.StringIO()
    Command(stdout=out).before_serving({})
    return out.getvalue()


def test_it_lets_new_accounts_comment_at_once_and_says_so(
    monkeypatch, settings, make_paper, django_user_model
):
    monkeypatch.setenv(WAIT, "")  # unset (restored after the test)
    settings.NEW_MEMBER_WAIT_HOURS = 24  # the default, restored after the test
    make_paper()  # the sample is not loaded again
    newcomer = django_user_model.objects.create_user("newcomer", "new@example.org", "x" * 12)
    assert new_member_ready_at(newcomer) is not None

    said = before_serving()

    assert f"new accounts may comment at once ({WAIT}=0" in said
    assert os.environ[WAIT] == "0"  # the web server's processes and the worker read it
    assert django_settings.NEW_MEMBER_WAIT_HOURS == 0
    assert new_member_ready_at(newcomer) is None


def test_it_keeps_the_wait_the_environment_sets(
    monkeypatch, settings, make_paper, django_user_model
):
    monkeypatch.setenv(WAIT, "24")
    settings.NEW_MEMBER_WAIT_HOURS = 24
    make_paper()
    newcomer = django_user_model.objects.create_user("newcomer", "new@example.org", "x" * 12)

    said = before_serving()

    assert "comment at once" not in said
    assert os.environ[WAIT] == "24"
    assert new_member_ready_at(newcomer) is not None
