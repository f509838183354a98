"""On a phone nothing scrolls sideways: every page fits a 390 px wide screen (an iPhone's),
for a reader and for a member (whose header has more links), in a real browser."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="/usr/bin/chromium is missing (apt-get install chromium); CI always runs this",
    ),
]

# What sticks out past the right edge of the screen, to name in a failure.
WIDER_THAN_SCREEN = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className} ` +
    `${Math.round(el.getBoundingClientRect().right)}px`)"""


@pytest.fixture
def todays_papers(on_todays_page):
    return [
        on_todays_page(
            arxiv_id="2611.04242",
            title="Scaling sparse attention to a million tokens with linear-time kernels",
            abstract="We show that sparse attention scales to very long contexts. " * 12,
            authors=[{"name": f"Researcher Number {i}"} for i in range(12)],
            imported_upvotes=21,
        ),
        on_todays_page(title="A smaller result about attention", imported_upvotes=3),
    ]


def assert_fits(page, url, who):
    response = page.goto(url)
    assert response.status == 200, url
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.evaluate("window.innerWidth")
    assert screen == PHONE["width"]
    assert width <= screen, f"{url} ({who}) is {width}px wide: {page.evaluate(WIDER_THAN_SCREEN)}"


def period_links(page, base):
    """The Day, Week, Month and Trending tabs' own links, as a reader follows them."""
    page.goto(base + "/")
    tabs = page.locator("nav.tabs a")
    return [base + tabs.nth(n).get_attribute("href") for n in range(tabs.count())]


def test_no_page_is_wider_than_a_phone(live_server, browser, todays_papers, alice):
    base = live_server.url
    reader = browser.new_context(viewport=PHONE)
    member = browser.new_context(viewport=PHONE)
    page = member.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct horse 1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")

    for context, who in ((reader, "a reader"), (member, "a member")):
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)
        tabs = period_links(page, base)
        assert len(tabs) >= 4  # day, week, month, trending (and suggested)
        for url in [*tabs, base + "/search?q=attention", base + "/papers/2611.04242"]:
            assert_fits(page, url, who)
        context.close()
