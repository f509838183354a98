"""Members discuss a paper and a moderator steps in, in a real browser (Debian's chromium)."""

import pytest
from django.contrib.auth.models import Group

from dailypapers.community.models import Comment, CommentReport
from tests.e2e.test_browser import pytestmark  # noqa: F401 (chromium or skip)

PASSWORD = "a fine pass phrase 7"


@pytest.fixture
def members(django_user_model):
    made = {n: django_user_model.objects.create_user(n, f"{n}@example.org", PASSWORD) for n in
            ("alice", "bob", "mod")}  # fmt: skip
    made["mod"].is_staff = True
    made["mod"].save()
    made["mod"].groups.add(Group.objects.get(name="Moderators"))
    return made


def signed_in(browser, live_server, username):
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.alerts = alerts
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_members_comment_reply_and_a_moderator_hides(live_server, browser, members, make_paper):
    paper = make_paper(title="A paper worth discussing")
    url = f"{live_server.url}/papers/{paper.arxiv_id}"

    # alice comments: Markdown, math, a mention, and markup that must not run
    alice = signed_in(browser, live_server, "alice")
    alice.goto(url)
    alice.fill(
        "#id_body",
        "**Great** bound: $O(n \\log n)$, cc @bob\n"
        "<img src=x onerror=alert(1)> [x](javascript:alert(2))",
    )
    alice.get_by_role("button", name="Post comment").click()
    alice.wait_for_url(f"**/papers/{paper.arxiv_id}#comment-*")
    comment = Comment.objects.get()
    assert alice.url.endswith(f"#comment-{comment.pk}")
    text = alice.locator(f"#comment-{comment.pk} .text")
    text.locator(".katex").first.wait_for()  # KaTeX typeset the comment's math
    assert text.locator("strong").inner_text() == "Great"
    assert text.locator("a.mention").get_attribute("href") == "/u/bob"
    assert text.locator("img").count() == 0 and "<img src=x" in text.inner_text()

    # bob is told, replies, upvotes and reports
    bob = signed_in(browser, live_server, "bob")
    bob.goto(live_server.url + "/notifications")
    assert bob.locator(".notifications-link .badge").inner_text() == "1"
    bob.get_by_role("link", name="alice mentioned you").click()
    bob.wait_for_url(f"**#comment-{comment.pk}")
    thread = bob.locator(f"#comment-{comment.pk}")
    thread.get_by_role("link", name="Reply").click()
    bob.fill("#body", "Agreed, *nice*.")
    bob.get_by_role("button", name="Post reply").click()
    bob.wait_for_url(f"**/papers/{paper.arxiv_id}#comment-*")
    reply = Comment.objects.get(parent=comment)
    assert bob.url.endswith(f"#comment-{reply.pk}")
    assert bob.locator(f"#comment-{reply.pk}").get_attribute("class").startswith("comment depth-1")
    thread.get_by_role("button", name="Upvote", exact=True).click()
    bob.wait_for_load_state()
    assert "▲ 1" in thread.locator(".score").inner_text()
    thread.get_by_role("link", name="Report").click()
    bob.select_option("#reason", "spam")
    bob.get_by_role("button", name="Report to the moderators").click()
    bob.wait_for_selector(".messages")
    assert "moderators will look" in bob.locator(".messages").inner_text()

    # alice sees the reply in her notifications
    alice.goto(url)
    assert alice.locator(".notifications-link .badge").inner_text() == "1"

    # the moderator works through the queue in the admin
    mod = signed_in(browser, live_server, "mod")
    mod.goto(live_server.url + "/admin/community/commentreport/?state=open")
    mod.locator("input[name=_selected_action]").first.check()
    mod.select_option("select[name=action]", "hide_comments")
    mod.get_by_role("button", name="Run").click()
    mod.wait_for_selector(".messagelist")
    assert "Hid 1 comment." in mod.locator(".messagelist").inner_text()
    assert CommentReport.objects.get().outcome == "hidden"

    # readers now see a placeholder where alice's comment was, and bob's reply under it
    reader = browser.new_page()
    reader.goto(url)
    assert "Hidden by a moderator" in reader.locator(f"#comment-{comment.pk}").inner_text()
    assert "Great" not in reader.locator("#comments").inner_text()
    assert "Agreed" in reader.locator(f"#comment-{reply.pk}").inner_text()
    # the moderator can bring it back from the page
    mod.goto(url)
    mod.locator(f"#comment-{comment.pk}").get_by_role("button", name="Restore").click()
    reader.reload()
    assert "Great" in reader.locator(f"#comment-{comment.pk}").inner_text()
    assert not alice.alerts and not bob.alerts and not mod.alerts  # nothing ever ran
    for page in (alice, bob, mod):
        page.context.close()
    reader.close()


ABSTRACT_ATTACKS = (
    "We prove <script>alert('abstract')</script> a bound <img src=x onerror=alert(2)> "
    "in $\\href{javascript:alert(3)}{O(n)}$ time; see javascript:alert(4) and "
    '<a href="javascript:alert(5)" onclick="alert(6)">here</a>.'
)


def test_imported_abstracts_and_comment_math_never_run_code(
    live_server, browser, members, make_paper
):
    paper = make_paper(title="Attacks in $x$", abstract=ABSTRACT_ATTACKS)
    alice = signed_in(browser, live_server, "alice")
    alice.goto(f"{live_server.url}/papers/{paper.arxiv_id}")
    alice.fill("#id_body", "$\\href{javascript:alert(7)}{y}$ and $\\url{javascript:alert(8)}$")
    alice.get_by_role("button", name="Post comment").click()
    alice.wait_for_load_state()
    alice.locator(".abstract .katex").first.wait_for()  # KaTeX ran over abstract and comment
    alice.locator(".comment .katex").first.wait_for()
    assert alice.locator("script:not([src])").count() == 0
    assert alice.locator("main img").count() == 0
    assert alice.locator("a[href^='javascript' i]").count() == 0
    assert alice.locator("[onclick], [onerror]").count() == 0
    alice.locator(".abstract").click()
    alice.locator(".comment > .text").click()
    assert not alice.alerts
    alice.context.close()


def test_a_stored_formula_too_deep_to_typeset_leaves_the_page_alive(
    live_server, browser, members, make_paper
):
    """A comment stored before the server refused such formulas (written to the database
    directly): KaTeX typesetting 200 nested fractions crashed the reader's tab."""
    from dailypapers.community.markdown import render_comment

    paper = make_paper(title="A paper with a hostile comment")
    bomb = "Deep: $$" + "\\frac{1}{" * 200 + "x" + "}" * 200 + "$$"
    fine = "Fine: $\\frac{a}{b}$"
    for body in (bomb, fine):
        Comment.objects.create(
            paper=paper, user=members["alice"], body=body, body_html=render_comment(body)
        )
    deep, shallow = Comment.objects.order_by("pk")
    reader = browser.new_page()
    reader.set_default_timeout(15_000)
    crashed = []
    reader.on("crash", lambda page: crashed.append(page))
    reader.goto(f"{live_server.url}/papers/{paper.arxiv_id}")
    reader.locator(f"#comment-{shallow.pk} .katex").first.wait_for()  # math.js ran
    assert reader.evaluate("1 + 1") == 2 and not crashed  # the tab is alive
    deep_text = reader.locator(f"#comment-{deep.pk} .text")
    assert deep_text.locator(".katex").count() == 0  # left as TeX, readable
    assert "$$\\frac{1}{\\frac{1}{" in deep_text.inner_text()
    reader.close()


def test_reply_and_report_pages_typeset_math_and_tables_have_borders(
    live_server, browser, members, make_paper
):
    from dailypapers.community.services import comment_post

    paper = make_paper(title="A paper with a formula in its discussion")
    body = "The loss $\\mathcal{L}(\\theta)$:\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    comment = comment_post(user=members["alice"], paper=paper, body=body)
    bob = signed_in(browser, live_server, "bob")
    for action in ("reply", "report"):
        bob.goto(f"{live_server.url}/comments/{comment.pk}/{action}")
        bob.locator("blockquote.comment .katex").first.wait_for()  # typeset, not raw TeX
        assert "\\mathcal" not in bob.locator("blockquote.comment .text").inner_text()
    cell = bob.locator("blockquote.comment td").first
    assert cell.evaluate("td => getComputedStyle(td).borderTopStyle") == "solid"
    bob.goto(f"{live_server.url}/papers/{paper.arxiv_id}")
    cell = bob.locator(f"#comment-{comment.pk} td").first
    assert cell.evaluate("td => getComputedStyle(td).borderTopStyle") == "solid"
    bob.context.close()
