"""axe-core over the main pages, for a reader and a member, in both themes and on a phone: no
serious or critical violation (WCAG 2.2 A/AA and axe's best practices). Also what a screen
reader is told after an upvote. axe is vendored (tests/e2e/vendor): no network."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from dailypapers.community.services import comment_post
from dailypapers.digests.services import follow_add
from dailypapers.papers.models import Author, Organization, PaperAuthor
from tests.e2e.test_browser import pytestmark  # noqa: F401 (chromium or skip)

pytestmark = [*pytestmark, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
PASSWORD = "a fine pass phrase 9"
PHONE = {"width": 360, "height": 740}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

# The serious and critical violations, one line each: rule, impact, the first elements.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" "))
      .join(", ")}`);
}"""

READER_PAGES = ["/", "/papers/week/{week}", "/papers/month/{month}", "/papers/trending",
                "/papers/2611.04242", "/search?q=attention", "/search?q=zzqxv",
                "/authors/{author}", "/orgs/acme", "/stats", "/about", "/subscribe",
                "/accounts/login/", "/accounts/signup/", "/no-such-page"]  # fmt: skip
MEMBER_PAGES = ["/", "/papers/2611.04242", "/search?q=attention", "/for-you", "/submit",
                "/settings", "/notifications", "/u/kim"]  # fmt: skip


@pytest.fixture
def site(on_todays_page, django_user_model):
    """Today's papers with linked authors, an organisation, and a discussion with a link."""
    org = Organization.objects.create(name="acme", fullname="Acme Research")
    papers = [
        on_todays_page(
            arxiv_id="2611.04242",
            title="Scaling sparse attention to a million tokens",
            abstract="We show that sparse attention scales to very long contexts. " * 8,
            imported_upvotes=21,
            organization=org,
            github_repo="https://github.com/example/sparse",
        ),
        on_todays_page(title="A smaller result about attention", imported_upvotes=1),
    ]
    author = Author.objects.create(name="Ada Lovelace")
    PaperAuthor.objects.create(paper=papers[0], author=author, position=0)
    kim = django_user_model.objects.create_user("kim", "kim@example.org", PASSWORD)
    lee = django_user_model.objects.create_user("lee", "lee@example.org", PASSWORD)
    comment_post(user=lee, paper=papers[0], body="Their table 3 is at https://example.org ok.")
    comment_post(user=kim, paper=papers[0], body="Does it hold for **long** contexts?")
    return {"papers": papers, "author": author}


def page_for(browser, base, *, scheme, member=False, phone=False):
    # bypass_csp: the site's policy refuses inline scripts, which is how axe is injected
    size = PHONE if phone else {"width": 1280, "height": 900}
    context = browser.new_context(
        bypass_csp=True, color_scheme=scheme, viewport=size, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    if member:
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", "kim")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
    return page


def violations(page, url):
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, TAGS)


def paths(pages, site):
    from django.utils import timezone

    today = timezone.localdate()
    values = {
        "week": f"{today.isocalendar().year}-W{today.isocalendar().week:02d}",
        "month": f"{today:%Y-%m}",
        "author": f"{site['author'].pk}-ada-lovelace",
    }
    return [path.format(**values) for path in pages]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_main_pages_have_no_serious_axe_violation(live_server, browser, site, scheme):
    found = {}
    for member, pages in ((False, READER_PAGES), (True, MEMBER_PAGES)):
        for phone in (False, True):
            page = page_for(browser, live_server.url, scheme=scheme, member=member, phone=phone)
            for path in paths(pages, site):
                bad = violations(page, live_server.url + path)
                if bad:
                    who = f"{'member' if member else 'reader'}{', phone' if phone else ''}"
                    found[f"{path} ({who})"] = bad
            page.context.close()
    assert found == {}, f"axe in the {scheme} theme"


def test_axe_finds_a_serious_violation(live_server, browser, site):
    """The check can fail: an image without a text alternative is critical."""
    page = page_for(browser, live_server.url, scheme="light")
    page.goto(live_server.url + "/about")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    page.add_script_tag(path=str(AXE))
    bad = page.evaluate(RUN_AXE, TAGS)
    assert [line.split(":")[0] for line in bad] == ["image-alt (critical)"]
    page.context.close()


def test_a_screen_reader_hears_what_an_upvote_changed(live_server, browser, site):
    page = page_for(browser, live_server.url, scheme="light", member=True)
    status = page.locator("#announce")  # one live region on every page, empty until needed
    assert (status.get_attribute("role"), status.get_attribute("aria-live")) == ("status", "polite")
    assert status.inner_text() == ""
    page.get_by_role("button", name="Upvote, 21 upvotes").click()
    page.get_by_role("button", name="Upvote, 22 upvotes", pressed=True).wait_for()
    assert status.inner_text() == "Upvoted: 22 upvotes."
    page.get_by_role("button", name="Upvote, 22 upvotes").click()
    page.get_by_role("button", name="Upvote, 21 upvotes", pressed=False).wait_for()
    assert status.inner_text() == "Upvote taken back: 21 upvotes."
    page.context.close()


def test_for_you_keeps_the_unfollow_button_in_its_chip(live_server, browser, site):
    """A form inside a <p> ends the paragraph in the parser: the × fell out of its chip."""
    kim = get_user_model().objects.get(username="kim")
    follow_add(user=kim, kind="topic", value="sparse attention")
    page = page_for(browser, live_server.url, scheme="light", member=True, phone=True)
    page.goto(live_server.url + "/for-you")
    button = page.locator(".chip button.unfollow")
    assert button.count() == 1
    assert button.get_attribute("aria-label") == "Unfollow sparse attention"
    box = button.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # a finger's target on a phone
    page.context.close()
