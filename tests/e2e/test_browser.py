"""A reader and a member in a real browser (Debian's chromium) against the live server."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from dailypapers.papers.models import Paper
from tests.web.conftest import fake_arxiv, paper_record

NEW_ID = f"{timezone.now():%y%m}.07777"  # this month's: recent enough to submit

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="/usr/bin/chromium is missing (apt-get install chromium); CI always runs this",
    ),
]


@pytest.fixture
def todays_papers(on_todays_page):
    """Two papers on today's page, the first with more upvotes."""
    return [
        on_todays_page(
            title="Scaling sparse attention to $10^6$ tokens",
            abstract="We show that sparse attention scales. " * 12,
            authors=[{"name": f"Researcher {i}"} for i in range(9)],
            imported_upvotes=21,
        ),
        on_todays_page(title="A smaller result", imported_upvotes=3),
    ]


def count_on(page, paper):
    return int(page.locator(f"#vote-{paper.pk} .count").inner_text())


def test_it_signs_up_upvotes_and_submits(live_server, browser, todays_papers, patch_arxiv):
    patch_arxiv(fake_arxiv({NEW_ID: paper_record(NEW_ID, title="Brand new idea")}))
    page = browser.new_page()
    page.set_default_timeout(15_000)

    # What a reader sees
    page.goto(live_server.url + "/")
    first = page.locator("li.paper").first
    # TeX reads as text in listings (KaTeX runs on the paper page only)
    assert first.locator("h2").inner_text() == "Scaling sparse attention to 10⁶ tokens"
    assert "Researcher 0, Researcher 1, Researcher 2, Researcher 3 et al. (9 authors)" in (
        first.locator(".authors").inner_text()
    )
    assert first.locator(".abstract").inner_text().startswith("We show that sparse attention")
    assert count_on(page, todays_papers[0]) == 21

    # Sign up
    page.get_by_role("link", name="Sign up").click()
    page.fill("#id_username", "dora")
    page.fill("#id_email", "dora@example.org")
    page.fill("#id_password1", "a fine pass phrase 3")
    page.fill("#id_password2", "a fine pass phrase 3")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/u/dora")

    # Upvote on the daily page (htmx swaps the button), and it survives a reload
    page.goto(live_server.url + "/")
    page.evaluate("window.notReloaded = true")
    page.locator(f"#vote-{todays_papers[1].pk} button").click()
    page.wait_for_selector(f"#vote-{todays_papers[1].pk} button.on")
    assert count_on(page, todays_papers[1]) == 4
    assert page.evaluate("window.notReloaded === true")  # htmx swapped the button in place
    page.reload()
    assert count_on(page, todays_papers[1]) == 4
    assert page.locator(f"#vote-{todays_papers[1].pk} button.on").count() == 1

    # Submit a paper that arXiv (faked) knows
    page.get_by_role("link", name="Submit", exact=True).click()
    page.fill("#id_arxiv_id", f"https://arxiv.org/abs/{NEW_ID}v1")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"**/papers/date/{timezone.localdate()}#paper-{NEW_ID}")
    assert "is on today’s page" in page.locator(".messages").inner_text()
    submitted = page.locator(f'[id="paper-{NEW_ID}"]')
    assert submitted.locator("h2").inner_text() == "Brand new idea"
    assert "Grace Hopper, Edsger Dijkstra" in submitted.locator(".authors").inner_text()
    assert Paper.objects.get(arxiv_id=NEW_ID).daily_entries.count() == 1

    # A bad id gets a clear message on the form
    page.goto(live_server.url + "/submit")
    page.fill("#id_arxiv_id", "not a paper")
    page.get_by_role("button", name="Submit").click()
    assert "is not an arXiv id" in page.locator(".error").inner_text()
    page.close()


def test_it_upvotes_without_javascript(live_server, browser, todays_papers, django_user_model):
    django_user_model.objects.create_user("eve", "eve@example.org", "a fine pass phrase 4")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "eve")
    page.fill("#id_password", "a fine pass phrase 4")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/")
    page.locator(f"#vote-{todays_papers[0].pk} button").click()  # a plain form post
    page.wait_for_selector(f"#vote-{todays_papers[0].pk} button.on")
    assert page.url == live_server.url + "/"
    assert count_on(page, todays_papers[0]) == 22
    context.close()


def test_it_typesets_math_and_keeps_the_source_without_javascript(live_server, browser, make_paper):
    paper = make_paper(title="Sparse attention in $O(n \\log n)$ time")
    page = browser.new_page()
    page.goto(f"{live_server.url}/papers/{paper.arxiv_id}")
    page.wait_for_selector("h1 .katex")  # KaTeX (vendored) rendered the formula
    page.close()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/papers/{paper.arxiv_id}")
    assert page.locator("h1").inner_text() == "Sparse attention in $O(n \\log n)$ time"
    context.close()
