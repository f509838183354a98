import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from dailypapers.community.models import Comment
from dailypapers.people.models import AuthorshipClaim
from dailypapers.people.services import claim_decide, claim_submit, paper_links_update


def claim(client, paper, position):
    return client.post(f"/papers/{paper.arxiv_id}/claim", {"position": position})


def test_a_member_claims_and_a_moderator_verifies(client, alice, moderator, linked_paper):
    paper = linked_paper(authors=[{"name": "Ada Lovelace"}, {"name": "Alan Turing"}])
    assert "/accounts/login/" in claim(client, paper, 0)["Location"]  # visitors sign in first
    client.force_login(alice)
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "Are you an author of this paper?" in html and "verified author" not in html
    assert claim(client, paper, 1).status_code == 302
    made = AuthorshipClaim.objects.get()
    assert (made.user, made.author.name, made.status) == (alice, "Alan Turing", "pending")
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "You claimed this paper as Alan Turing: waiting for a moderator." in html
    assert "badge verified" not in html

    with pytest.raises(PermissionDenied):
        claim_decide(moderator=alice, claim=made, verified=True)  # not her own claim
    claim_decide(moderator=moderator, claim=made, verified=True)
    client.post(f"/papers/{paper.arxiv_id}/comments", {"body": "Author here: ask away."})
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "✓ alice</a>" in html  # beside "Alan Turing" in the author list
    comment = html.split(f'id="comment-{Comment.objects.get().pk}"')[1]
    assert '<span class="badge verified">verified author</span>' in comment.split("</p>")[0]
    profile = client.get("/u/alice").content.decode()
    assert (
        f'Verified author: <a href="/authors/{made.author.pk}-alan-turing">Alan Turing</a>'
        in profile
    )


def test_claims_are_checked(client, alice, bob, moderator, linked_paper):
    paper = linked_paper(authors=[{"name": "Ada Lovelace"}])
    client.force_login(alice)
    for position in ["7", "x", ""]:
        claim(client, paper, position)
    assert not AuthorshipClaim.objects.exists()
    first = claim_submit(user=alice, paper=paper, position=0)
    with pytest.raises(ValidationError, match="already claimed"):
        claim_submit(user=alice, paper=paper, position=0)
    second = claim_submit(user=bob, paper=paper, position=0)
    claim_decide(moderator=moderator, claim=first, verified=True)
    with pytest.raises(ValidationError, match="verified as Ada Lovelace"):
        claim_decide(moderator=moderator, claim=second, verified=True)
    claim_decide(moderator=moderator, claim=second, verified=False)
    assert second.status == "rejected"


def test_the_admin_verifies_claims_for_moderators_only(alice, bob, moderator, linked_paper):
    paper = linked_paper()
    claim_submit(user=alice, paper=paper, position=0)
    model_admin = site._registry[AuthorshipClaim]

    def actions_for(user):
        request = RequestFactory().get("/admin/people/authorshipclaim/")
        request.user = user
        return model_admin.get_actions(request)

    assert "verify" not in actions_for(bob) and "verify" in actions_for(moderator)
    request = RequestFactory().post("/")
    request.user, request.session = moderator, {}
    request._messages = FallbackStorage(request)
    model_admin.verify(request, AuthorshipClaim.objects.all())
    assert AuthorshipClaim.objects.get().status == "verified"


def test_verified_authors_set_code_project_page_and_organisation(
    client, alice, bob, moderator, linked_paper
):
    paper = linked_paper()
    claim_decide(
        moderator=moderator, claim=claim_submit(user=alice, paper=paper, position=0), verified=True
    )
    links = f"/papers/{paper.arxiv_id}/links"
    client.force_login(bob)
    assert client.get(links).status_code == 403
    assert client.post(links, {"github_repo": "https://github.com/bob/x"}).status_code == 403
    with pytest.raises(PermissionDenied):
        paper_links_update(user=bob, paper=paper, github_repo="", project_page="", organization="")

    client.force_login(alice)
    bad = client.post(links, {"github_repo": "javascript:alert(1)", "project_page": "ftp://x"})
    assert bad.status_code == 400
    assert "https://github.com/owner/repo" in bad.content.decode()
    assert "http(s) address" in bad.content.decode()
    good = {
        "github_repo": "https://github.com/ada/engine/",
        "project_page": "https://ada.example/engine",
        "organization": "Analytical Engines Ltd",
    }
    assert client.post(links, good)["Location"] == f"/papers/{paper.arxiv_id}"
    paper.refresh_from_db()
    assert paper.github_repo == "https://github.com/ada/engine"
    assert paper.project_page == "https://ada.example/engine"
    assert (paper.organization.name, paper.organization.fullname) == (
        "analytical-engines-ltd",
        "Analytical Engines Ltd",
    )
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert 'href="/orgs/analytical-engines-ltd"' in html and "ada/engine" in html
