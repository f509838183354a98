"""Static URLs carry the file's digest, so a changed stylesheet reaches browsers and proxies
that keep static files for days (nginx: `expires 7d`) at once."""

import hashlib
import re

from django.contrib.staticfiles import finders

from dailypapers.web.staticfiles import VersionedStaticFilesStorage


def digest(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def test_pages_link_the_stylesheet_by_its_digest_and_that_url_serves_it(client, db):
    page = client.get("/about").content.decode()
    href = re.search(r'<link rel="stylesheet" href="([^"]+site\.css[^"]*)"', page)[1]
    assert href == f"/static/web/site.css?v={digest(finders.find('web/site.css'))}"
    response = client.get(href)
    assert response.status_code == 200
    assert b".tabs" in b"".join(response.streaming_content)


def test_a_changed_file_gets_a_new_url(settings, tmp_path):
    settings.STATICFILES_DIRS = [tmp_path]
    settings.DEBUG = True  # looked at on every call, as when editing the stylesheet
    (tmp_path / "look.css").write_text("a { color: red; }")
    storage = VersionedStaticFilesStorage()
    before = storage.url("look.css")
    assert before.startswith("/static/look.css?v=") and storage.url("look.css") == before
    (tmp_path / "look.css").write_text("a { color: blue; }")
    after = storage.url("look.css")
    assert after.startswith("/static/look.css?v=") and after != before

    settings.DEBUG = False  # in production: once per process (a release restarts it)
    cached = storage.url("look.css")
    (tmp_path / "look.css").write_text("a { color: green; }")
    assert storage.url("look.css") == cached == after


def test_a_file_it_cannot_find_or_read_gets_a_plain_url(settings, tmp_path):
    settings.STATICFILES_DIRS = [tmp_path]
    (tmp_path / "locked.css").mkdir()  # found, but not a file it can read
    storage = VersionedStaticFilesStorage()
    assert storage.url("missing.css") == "/static/missing.css"
    assert storage.url("locked.css") == "/static/locked.css"
    assert "?v=" not in storage.url("../settings.py")  # outside the static folders: no error
