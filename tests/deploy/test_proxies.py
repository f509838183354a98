"""DAILYPAPERS_TRUSTED_PROXIES: behind nginx (1) the client is the address our proxy put
last in X-Forwarded-For, and X-Forwarded-Proto says https; without a proxy (0, the default)
both headers are ignored, so a client cannot dodge a rate limit by inventing addresses."""

import os
import subprocess
import sys

import pytest
from django.test import Client


def answers(client, forwarded_for, count):
    return [
        client.get(
            f"/api/daily_papers?limit=1&p={i}", headers={"X-Forwarded-For": forwarded_for(i)}
        ).status_code
        for i in range(count)
    ]


@pytest.mark.django_db
def test_without_a_proxy_invented_addresses_do_not_dodge_the_rate_limit(settings):
    settings.API_RATE_ANON = 2
    assert answers(Client(), lambda i: f"10.0.0.{i}", 4) == [200, 200, 429, 429]


@pytest.mark.django_db
def test_behind_one_proxy_the_client_is_the_address_it_added(settings):
    settings.NINJA_NUM_PROXIES = 1
    settings.API_RATE_ANON = 2
    # The client invents the first entries; nginx appends the address it saw.
    assert answers(Client(), lambda i: f"10.9.9.{i}, 192.0.2.1", 3) == [200, 200, 429]
    assert answers(Client(), lambda i: f"10.9.9.{i}, 192.0.2.2", 1) == [200]


def settings_with(**environment):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.NINJA_NUM_PROXIES, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dailypapers.settings", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_setting_turns_the_forwarded_headers_on():
    assert settings_with(DAILYPAPERS_TRUSTED_PROXIES="0") == "0 None"
    assert settings_with(DAILYPAPERS_TRUSTED_PROXIES="1") == "1 ('HTTP_X_FORWARDED_PROTO', 'https')"
