"""Every kind of page, in a real browser, under the Content-Security-Policy: no violation
reported in the console (an inline script, style or handler, or a resource from elsewhere,
would be refused and reported there)."""

import datetime as dt

import pytest
from django.utils import timezone

from dailypapers.digests import services as digests
from dailypapers.digests.models import Subscription
from dailypapers.papers.models import DailyEntry
from tests.e2e.test_browser import pytestmark  # noqa: F401 (chromium or skip)

# What a page reports to its own listener too, in case a browser logs it differently.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
));
"""


class Watcher:
    """A browser context whose pages record every CSP violation and script error."""

    def __init__(self, browser, live_server, **options):
        self.base = live_server.url
        self.context = browser.new_context(**options)
        self.context.add_init_script(LISTEN)
        self.problems = []
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)  # a busy CI machine: KaTeX and swagger are large
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"console: {message.text}")

    def visit(self, path):
        response = self.page.goto(self.base + path, wait_until="networkidle")
        header = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in header, f"{path}: no policy in {response.headers}"
        self.check(path)
        return response

    def check(self, where):
        caught = self.page.evaluate("window.__csp || []")
        self.problems += [f"{where}: {text}" for text in caught]
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def site(make_paper, django_user_model):
    today = timezone.localdate()
    papers = [
        make_paper(title="Sparse attention in $O(n \\log n)$ time", imported_upvotes=9),
        make_paper(title="A smaller result", imported_upvotes=2),
    ]
    for paper in papers:
        DailyEntry.objects.create(
            paper=paper, day=today, submitted_at=timezone.now(), source="import"
        )
    django_user_model.objects.create_user("mia", "mia@example.org", "a fine pass phrase 5")
    django_user_model.objects.create_superuser("root", "root@example.org", "a root pass phrase 6")
    subscription = Subscription.objects.create(email="sub@example.org")
    return {"today": today, "papers": papers, "subscription": subscription}


def sign_in(watcher, username, password):
    watcher.visit("/accounts/login/")
    watcher.page.fill("#id_username", username)
    watcher.page.fill("#id_password", password)
    watcher.page.get_by_role("button", name="Sign in").click()
    watcher.page.wait_for_load_state("networkidle")
    watcher.check("after signing in")


def test_every_kind_of_page_keeps_to_the_policy(live_server, browser, site):
    today = site["today"]
    paper = site["papers"][0]
    subscription = site["subscription"]
    year, week, _ = today.isocalendar()
    reader = Watcher(browser, live_server)
    for path in [
        "/",
        f"/papers/date/{today}",
        f"/papers/date/{today - dt.timedelta(days=400)}",  # a day without papers
        f"/papers/week/{year}-W{week:02d}",
        f"/papers/month/{today:%Y-%m}",
        "/papers/trending",
        "/papers/suggested",  # no model: says how to train one
        f"/papers/{paper.arxiv_id}",
        "/search?q=sparse+attention",
        "/search?q=nothing+matches+this+xyzzy",
        "/about",
        "/subscribe",
        "/accounts/signup/",
        "/accounts/password_reset/",
        "/u/mia",
        "/no/such/page",
        "/api/docs",
        "/subscribe/confirm/" + digests.confirm_token(subscription, subscription.email),
        "/subscribe/manage/" + digests.manage_token(subscription),
        "/unsubscribe/" + digests.manage_token(subscription),
    ]:
        reader.visit(path)
    reader.visit(f"/papers/{paper.arxiv_id}")
    reader.page.wait_for_selector("h1 .katex")  # the math was typeset, by static scripts only

    member = Watcher(browser, live_server)
    sign_in(member, "mia", "a fine pass phrase 5")
    for path in ["/for-you", "/submit", "/settings", "/settings/tokens", "/subscribe", "/u/mia"]:
        member.visit(path)
    member.visit("/")
    member.page.locator(f"#vote-{paper.pk} button").click()  # htmx swaps the button in
    member.page.wait_for_selector(f"#vote-{paper.pk} button.on")
    member.check("after an upvote")

    admin = Watcher(browser, live_server)
    sign_in(admin, "root", "a root pass phrase 6")
    for path in [
        "/admin/",
        "/admin/papers/paper/",
        f"/admin/papers/paper/{paper.pk}/change/",
        "/admin/auth/user/add/",
    ]:
        admin.visit(path)


def test_the_api_docs_load_from_this_site(live_server, browser, db):
    watcher = Watcher(browser, live_server)
    watcher.visit("/api/docs")
    watcher.page.wait_for_selector("#swagger-ui .info")  # swagger-ui ran and read the schema
    watcher.check("/api/docs")


def test_the_watcher_catches_an_inline_script(live_server, browser, db, settings):
    """The check itself can fail: the same page with an inline script is caught."""
    watcher = Watcher(browser, live_server)
    watcher.page.goto(live_server.url + "/about")
    watcher.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1'; "
        "document.body.append(s); }"
    )
    watcher.page.wait_for_timeout(300)
    with pytest.raises(AssertionError, match="script-src"):
        watcher.check("/about with an inline script")
