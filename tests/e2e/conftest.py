# The web tests' stand-in for arXiv, shared with the browser tests; one chromium per module.
import pytest
from django.utils import timezone

from dailypapers.papers.models import DailyEntry
from tests.web.conftest import patch_arxiv  # noqa: F401

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def on_todays_page(make_paper):
    """make_paper's paper, featured on today's daily page."""

    def make(**fields):
        paper = make_paper(**fields)
        DailyEntry.objects.create(
            paper=paper, day=timezone.localdate(), submitted_at=timezone.now(), source="import"
        )
        return paper

    return make
