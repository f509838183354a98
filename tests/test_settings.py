import pytest
from django.core.exceptions import ImproperlyConfigured

from dailypapers import checks
from dailypapers.settings import env_bool, mailer_from_url


def test_it_reads_an_smtp_url_into_mailer_options():
    mailer = mailer_from_url("smtp://me%40lab.org:s%3Acret@mail.lab.org:587?tls=1&timeout=5")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "mail.lab.org",
        "port": 587,
        "username": "me@lab.org",
        "password": "s:cret",
        "use_ssl": False,
        "use_tls": True,
        "timeout": 5,
    }
    assert mailer_from_url("smtps://mail.lab.org")["OPTIONS"]["port"] == 465


def test_it_prints_mail_to_the_console_without_an_smtp_url():
    assert mailer_from_url("")["BACKEND"].endswith("console.EmailBackend")


def test_it_refuses_unknown_schemes_and_booleans(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        mailer_from_url("http://mail.lab.org")
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("DEBUG")


def test_it_flags_bad_configuration(settings):
    settings.SITE_URL = "papers.example.org"
    settings.AUTO_FEATURE = "some; thing"
    settings.ARXIV_MIN_INTERVAL = 1
    ids = {problem.id for problem in checks.check_configuration(None)}
    assert ids == {"dailypapers.E001", "dailypapers.E002", "dailypapers.W001"}


def test_it_accepts_the_defaults():
    assert checks.check_configuration(None) == []


def test_the_env_example_gives_the_default_data_directory():
    from tests.conftest import REPO

    example = (REPO / ".env.example").read_text()
    assert "DAILYPAPERS_DATA_DIR=./dailypapers-data\n" in example  # the README's default
    assert "| `DAILYPAPERS_DATA_DIR` | `./dailypapers-data` |" in (REPO / "README.md").read_text()
