"""An https site: `check --deploy` is clean with production settings, and the settings behind
it (secure cookies, HSTS, SSL redirect, proxies) follow DAILYPAPERS_SITE_URL."""

import json
import os
import subprocess
import sys

PRODUCTION = {
    "DAILYPAPERS_SITE_URL": "https://papers.example.org",
    "SECRET_KEY": "x7!kP2#vQ9@mZ4$wL8^nR3&tY6*bH1(cJ5)dF0-gS-long-and-random-enough",
    "DAILYPAPERS_SMTP_URL": "smtp://mailer:secret@mail.example.org:587?tls=1",
}


def run(tmp_path, *args, **env):
    environ = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path), **env}
    environ.pop("DATABASE_URL", None)
    environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # tests/conftest.py sets it for Playwright
    return subprocess.run(
        [sys.executable, "-m", "dailypapers", *args],
        env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    done = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_reports_a_site_that_cannot_send_mail(tmp_path):
    """Without an SMTP URL, password resets and digests would go to a console nobody reads."""
    production = {**PRODUCTION, "DAILYPAPERS_SMTP_URL": ""}
    done = run(tmp_path, "check", "--deploy", **production)
    assert done.returncode == 1
    assert "mail.E001" in done.stderr
    assert "security." not in done.stderr + done.stdout


def settings_of(tmp_path, **env):
    names = [
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
        "NINJA_NUM_PROXIES",
    ]  # fmt: skip
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    done = run(tmp_path, "shell", "-c", code, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_https_site_gets_secure_cookies_hsts_and_a_redirect(tmp_path):
    https = settings_of(tmp_path, **PRODUCTION, DAILYPAPERS_PROXY_COUNT="1")
    assert https == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 86400,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "NINJA_NUM_PROXIES": 1,
    }
    local = settings_of(tmp_path, DAILYPAPERS_SITE_URL="http://127.0.0.1:8000")
    assert local["SESSION_COOKIE_SECURE"] is False and local["SECURE_SSL_REDIRECT"] is False
    assert local["SECURE_HSTS_SECONDS"] == 0 and local["SECURE_PROXY_SSL_HEADER"] is None
    assert local["NINJA_NUM_PROXIES"] == 0  # X-Forwarded-For is not trusted by default


def test_the_headers_on_an_https_site(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 365 * 86400
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get("/about")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200  # probes over http still work
    secure = client.get("/about", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
