"""What readers see, in a real browser: the thumbnails of the listings, dark mode on every
page, /stats' charts, and no inline script or style that a strict CSP would refuse."""

import os
import time
from pathlib import Path

import pytest
from django.utils import timezone

from dailypapers.papers.models import Author, DailyEntry, Organization, PaperAuthor
from dailypapers.thumbnails.services import thumbnails_make
from tests.thumbnails.conftest import pdf_server  # noqa: F401  (the fixture)

CHROMIUM = Path("/usr/bin/chromium")
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="/usr/bin/chromium is missing (apt-get install chromium); CI always runs this",
    ),
]

# Every element's own text against the background it is drawn on (WCAG contrast ratio);
# SVG text against the chart's box. Returns the failures.
LOW_CONTRAST = """() => {
  const rgb = (text) => { const m = text.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const behind = (el) => { for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255}; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0 || el.closest("details:not([open])")) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const svg = el instanceof SVGElement;
    const fg = rgb(svg ? style.fill : style.color), bg = behind(svg ? el.closest("svg") : el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05), size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.6 && parseInt(style.fontWeight) >= 700);
    const text = el.textContent.trim().slice(0, 40);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def site(make_paper, alice, pdf_server):  # noqa: F811
    """Today's page: two papers, the first with a rendered thumbnail; an organisation."""
    org = Organization.objects.create(name="acme", fullname="Acme Research")
    papers = [
        make_paper(
            arxiv_id="2512.16776", title="Kling-Omni", imported_upvotes=30, organization=org
        ),
        make_paper(arxiv_id="2512.00002", title="A paper without a picture", imported_upvotes=3),
    ]
    for paper in papers:
        DailyEntry.objects.create(
            paper=paper, day=timezone.localdate(), submitted_at=timezone.now(), source="import"
        )
    ada = Author.objects.create(name="Ada Lovelace")
    PaperAuthor.objects.create(paper=papers[0], author=ada, position=0)
    pdf_server.answers["/pdf/2512.00002v1"] = (404, b"", {})
    thumbnails_make(limit=10)
    return papers


def open_page(browser, url, *, scheme="light", width=1280, csp=False):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.set_default_timeout(15_000)
    page.refused = []
    page.on(
        "console", lambda m: "Content Security Policy" in m.text and page.refused.append(m.text)
    )
    if csp:

        def with_csp(route):
            response = route.fetch()
            headers = {**response.headers, "content-security-policy": STRICT_CSP}
            route.fulfill(response=response, headers=headers)

        page.route("**/*", with_csp)
    page.status = page.goto(url).status
    return page


def test_listings_show_thumbnails_lazily_without_jumping(live_server, browser, site):
    page = open_page(browser, live_server.url + "/", csp=True)
    rows = page.locator("li.paper")
    image = rows.nth(0).locator(".thumb img")
    assert image.get_attribute("loading") == "lazy"
    image.scroll_into_view_if_needed()
    # Polled from here: wait_for_function polls by eval in the page, which this page's
    # policy refuses whenever its first look finds the image still loading.
    deadline = time.monotonic() + 30
    while not image.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the thumbnail did not load"
        page.wait_for_timeout(50)
    assert image.evaluate("img => img.naturalWidth") == 400  # loaded, twice the box: sharp
    loaded = image.bounding_box()
    assert (round(loaded["width"]), round(loaded["height"])) == (200, 125)
    assert rows.nth(1).locator("img").count() == 0  # a row without one is a plain row
    assert page.refused == []
    page.close()

    # An image that never comes keeps its box: nothing below it moves.
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/thumbnails/**", lambda route: route.abort())
    page.goto(live_server.url + "/")
    box = page.locator(".thumb img").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (200, 125)
    page.close()

    # On a phone the picture is above the text, the card's full width.
    page = open_page(browser, live_server.url + "/", width=390)
    box, title = page.locator(".thumb img").bounding_box(), page.locator("li.paper h2").first
    assert box["width"] > 300 and box["y"] < title.bounding_box()["y"]
    page.close()


def test_the_contrast_check_finds_unreadable_text(live_server, browser, db):
    page = open_page(browser, live_server.url + "/about", scheme="dark")
    page.evaluate(
        """() => { const p = document.createElement("p"); p.textContent = "grey on grey";
        p.style.color = "#777"; p.style.background = "#888"; document.body.append(p); }"""
    )
    assert page.evaluate(LOW_CONTRAST) == ['P "grey on grey" 1.26']
    page.close()


PAGES = ["/", "/papers/trending", "/papers/2512.16776", "/stats", "/about", "/search?q=kling",
         "/accounts/login/", "/accounts/signup/", "/subscribe", "/no-such-page",
         "/authors/{ada}-ada-lovelace", "/orgs/acme"]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_readable_in_both_themes(live_server, browser, site, scheme):
    for path in PAGES:
        path = path.format(ada=Author.objects.get(name="Ada Lovelace").pk)
        page = open_page(browser, live_server.url + path, scheme=scheme)
        assert page.status == (404 if path == "/no-such-page" else 200), path
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        dark = background in ("rgb(21, 24, 28)",)
        assert dark == (scheme == "dark"), f"{path}: body background {background}"
        assert page.evaluate(LOW_CONTRAST) == [], f"{path} in the {scheme} theme"
        page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_papers_authors_look_like_links(live_server, browser, site, scheme):
    page = open_page(browser, live_server.url + "/papers/2512.16776", scheme=scheme)
    author = page.locator(".authors.full a", has_text="Ada Lovelace")
    style = "el => { const s = getComputedStyle(el); return [s.textDecorationLine, s.color]; }"
    line, resting = author.evaluate(style)
    assert line == "underline"  # before any hover
    author.hover()
    line, hovered = author.evaluate(style)
    assert line == "underline" and hovered != resting  # the link colour on hover
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_members_pages_are_readable_in_both_themes(live_server, browser, site, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct horse 1")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/settings/tokens")
    page.fill("input[name=name]", "my script")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").is_visible()  # the secret, shown once: readable?
    assert page.evaluate(LOW_CONTRAST) == [], f"/settings/tokens in the {scheme} theme"
    members = ["/", "/for-you", "/submit", "/u/alice", "/notifications", "/papers/2512.16776",
               "/collections"]  # fmt: skip
    for path in members:
        page.goto(live_server.url + path)
        assert page.evaluate(LOW_CONTRAST) == [], f"{path} in the {scheme} theme, signed in"
    context.close()


def test_stats_draws_its_charts_under_a_strict_csp(live_server, browser, site):
    for scheme in ("light", "dark"):
        page = open_page(browser, live_server.url + "/stats", scheme=scheme, csp=True)
        charts = page.locator("svg.chart")
        assert charts.count() >= 3
        for n in range(charts.count()):
            chart = charts.nth(n)
            assert chart.bounding_box()["width"] > 300
            heights = chart.locator("rect").evaluate_all(
                "rects => rects.map(r => r.getBBox().height + r.getBBox().width)"
            )
            assert max(heights) > 5, f"chart {n} draws nothing"
        assert page.locator("#organizations td").first.inner_text() == "Acme Research"
        assert page.refused == []
        page.close()
