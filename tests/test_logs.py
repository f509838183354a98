"""The console log: one line a record with its time and level; no line for a request a
rate limit refused, no traceback for each 503 of a database outage."""

import logging
import os
import re
import subprocess
import sys

import pytest
from django.db.utils import OperationalError

from tests.deploy.test_error_pages import failing_database, reader  # noqa: F401 (fixtures)

LOG_A_LINE = """
import logging
import django
django.setup()
logging.getLogger("dailypapers.workers").warning("the database is unavailable")
"""


def test_each_line_has_an_iso_time_and_the_level(tmp_path):
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path), "DAILYPAPERS_LOG_LEVEL": "INFO"}
    done = subprocess.run([sys.executable, "-c", LOG_A_LINE], env=env, capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    line = done.stderr.strip()
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} WARNING dailypapers\.workers: "
    assert re.fullmatch(pattern + "the database is unavailable", line), line


def requests_logged(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_a_request_refused_by_the_rate_limit_is_not_logged(client, settings, caplog):
    settings.API_RATE_ANON = 2
    with caplog.at_level(logging.INFO):
        answers = [client.get("/api/daily_papers").status_code for _ in range(6)]
        assert answers.count(429) == 4
        assert requests_logged(caplog) == []
        assert client.get("/no-such-page").status_code == 404  # other 4xx: as Django logs them
    assert [r.getMessage() for r in requests_logged(caplog)] == ["Not Found: /no-such-page"]


@pytest.mark.django_db
def test_a_503_for_a_database_outage_is_one_line_without_a_traceback(
    failing_database,  # noqa: F811
    reader,  # noqa: F811
    caplog,
):
    failing_database(OperationalError("connection failed: Connection refused"))
    with caplog.at_level(logging.INFO):
        assert reader.get("/").status_code == 503
    assert requests_logged(caplog) == []
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.getMessage().startswith("database unavailable for GET /: ")
    assert line.exc_info is None
