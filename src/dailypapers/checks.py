"""System checks for configuration that would otherwise fail late (at 20:30 on a Sunday)."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_configuration(app_configs, **kwargs):
    problems = []
    site = urlsplit(settings.SITE_URL)
    if site.scheme not in ("http", "https") or not site.hostname:
        problems.append(
            Error(
                f"DAILYPAPERS_SITE_URL={settings.SITE_URL!r} is not an http(s) URL.",
                hint="Set it to the address readers use, e.g. https://papers.example.org",
                id="dailypapers.E001",
            )
        )
    auto = settings.AUTO_FEATURE.strip().lower()
    is_top = re.fullmatch(r"top:[1-9]\d*", auto)
    if (
        auto not in ("none", "all")
        and not is_top
        and not all("." in category or category.isalpha() for category in auto.split(","))
    ):
        problems.append(
            Error(
                f"DAILYPAPERS_AUTO_FEATURE={settings.AUTO_FEATURE!r} is not understood.",
                hint='Use "none", "all", "top:N" or arXiv categories such as cs.CL,cs.LG',
                id="dailypapers.E002",
            )
        )
    if settings.ARXIV_MIN_INTERVAL < 3:
        problems.append(
            Warning(
                "DAILYPAPERS_ARXIV_MIN_INTERVAL is below 3 seconds; arXiv asks for at most "
                "one request every 3 seconds.",
                id="dailypapers.W001",
            )
        )
    return problems
