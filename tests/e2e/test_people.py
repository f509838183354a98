"""A member claims a paper, a moderator verifies it in the admin, the member's badge shows,
they set the paper's code link, follow the author and collect the paper (real chromium)."""

from dailypapers.digests.selectors import follows_for_user
from dailypapers.people.models import AuthorshipClaim, Collection
from dailypapers.people.services import paper_link_authors

from .test_browser import pytestmark  # noqa: F401 (skip without chromium)


def sign_in(page, url, username, password):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign in").click()


def test_a_member_claims_a_moderator_verifies_and_the_member_follows(
    live_server, browser, make_paper, django_user_model
):
    paper = make_paper(
        title="Engines that weave algebra",
        authors=[{"name": "Charles Babbage"}, {"name": "Ada Lovelace"}],
    )
    paper_link_authors(paper)
    dora = django_user_model.objects.create_user("dora", "d@example.org", "a fine pass phrase 5")
    django_user_model.objects.create_superuser("boss", "b@example.org", "a fine pass phrase 6")
    url = live_server.url
    member = browser.new_context().new_page()
    member.set_default_timeout(15_000)
    sign_in(member, url, "dora", "a fine pass phrase 5")

    # Claim on the paper page
    member.goto(f"{url}/papers/{paper.arxiv_id}")
    member.get_by_text("Are you an author of this paper?").click()
    member.select_option("#claim-position", label="Ada Lovelace")
    member.get_by_role("button", name="Claim authorship").click()
    assert "a moderator will check your claim" in member.locator(".messages").inner_text()
    assert "waiting for a moderator" in member.locator("#authorship").inner_text()

    # A moderator verifies it with the admin action
    moderator = browser.new_context().new_page()
    moderator.set_default_timeout(15_000)
    moderator.goto(f"{url}/admin/login/")
    moderator.fill("#id_username", "boss")
    moderator.fill("#id_password", "a fine pass phrase 6")
    moderator.locator("input[type=submit]").click()
    moderator.goto(f"{url}/admin/people/authorshipclaim/")
    moderator.locator("input.action-select").first.check()
    moderator.select_option("select[name=action]", "verify")
    moderator.locator("button[name=index]").click()
    assert "Verified 1 claim." in moderator.locator(".messagelist").inner_text()
    assert AuthorshipClaim.objects.get().status == "verified"

    # The badge, and the links only a verified author may set
    member.goto(f"{url}/papers/{paper.arxiv_id}")
    assert "✓ dora" in member.locator(".authors").inner_text()
    member.get_by_role("link", name="Edit code, project page, organisation").click()
    member.fill("#id_github_repo", "https://github.com/ada/weave")
    member.fill("#id_organization", "Analytical Society")
    member.get_by_role("button", name="Save").click()
    member.wait_for_url(f"**/papers/{paper.arxiv_id}")
    assert "ada/weave" in member.locator(".links").first.inner_text()
    assert member.locator(".paper-head .org").inner_text() == "Analytical Society"

    # Follow the author from her page
    member.locator(".authors").get_by_role("link", name="Ada Lovelace").click()
    member.wait_for_url("**/authors/*-ada-lovelace")
    assert "dora" in member.locator(".profile-head").inner_text()  # verified member
    member.get_by_role("button", name="Follow").click()
    assert "Following ✓" in member.locator(".profile-head").inner_text()
    assert [(f.kind, f.value) for f in follows_for_user(dora)] == [("author", "Ada Lovelace")]

    # Collect the paper, with a note
    member.goto(f"{url}/papers/{paper.arxiv_id}")
    member.get_by_text("Add to a collection").click()
    member.fill("#collect-title", "Weaving")
    member.fill("#collect-note", "The first program")
    member.get_by_role("button", name="Add", exact=True).click()
    assert "Added to “Weaving”" in member.locator(".messages").inner_text()
    member.goto(f"{url}{Collection.objects.get().get_absolute_url()}")
    assert "The first program" in member.locator(".note").inner_text()
    member.context.close()
    moderator.context.close()


def test_people_pages_keep_to_the_content_security_policy(
    live_server, browser, make_paper, django_user_model
):
    from dailypapers.papers.models import Author, Organization
    from dailypapers.people.services import claim_decide, claim_submit, collection_create

    from .test_csp import Watcher, sign_in

    org = Organization.objects.create(name="inclusionAI", fullname="inclusion AI")
    paper = make_paper(authors=[{"name": "Ada Lovelace"}], organization=org)
    paper_link_authors(paper)
    mia = django_user_model.objects.create_user("mia", "mia@example.org", "a fine pass phrase 5")
    boss = django_user_model.objects.create_superuser("boss", "b@example.org", "pass phrase 6")
    claim_decide(
        moderator=boss, claim=claim_submit(user=mia, paper=paper, position=0), verified=True
    )
    shared = collection_create(user=mia, title="Shared", is_public=True)
    watcher = Watcher(browser, live_server)
    sign_in(watcher, "mia", "a fine pass phrase 5")
    ada = Author.objects.get(name="Ada Lovelace")
    for path in [
        f"/authors/{ada.pk}-ada-lovelace",
        "/orgs/inclusionAI",
        "/collections",
        shared.get_absolute_url(),
        f"/papers/{paper.arxiv_id}/links",
        f"/papers/{paper.arxiv_id}",
    ]:
        watcher.visit(path)
    watcher.context.close()
