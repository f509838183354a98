"""Deleting an account, by its owner on /settings or by an operator in the admin, keeps
the other members' replies in their threads and leaves every count right."""

import pytest

from dailypapers.community.models import Comment, CommentReport, CommentVote
from dailypapers.community.services import (
    comment_delete,
    comment_post,
    comment_report,
    comment_vote,
)
from dailypapers.notifications.models import Notification
from dailypapers.papers.services import vote_cast


@pytest.fixture
def discussion(make_paper, feature, alice, bob, carol):
    """carol starts a thread bob answers, writes a comment nobody answers, and a thread of
    her own with her own reply; she upvotes the paper, downvotes bob's reply, reports
    alice's comment; alice upvotes carol's lone comment."""
    paper = make_paper(title="A discussed paper")
    feature(paper)
    thread = comment_post(user=carol, paper=paper, body="carol asks something")
    reply = comment_post(user=bob, paper=paper, body="bob answers", parent=thread)
    lone = comment_post(user=carol, paper=paper, body="carol alone")
    own = comment_post(user=carol, paper=paper, body="carol to herself")
    comment_post(user=carol, paper=paper, body="carol again", parent=own)
    by_alice = comment_post(user=alice, paper=paper, body="alice says hi")
    vote_cast(user=carol, paper=paper)
    comment_vote(user=carol, comment=reply, value=-1)
    comment_vote(user=alice, comment=lone, value=1)
    comment_report(user=carol, comment=by_alice, reason="spam")
    paper.refresh_from_db()
    assert paper.num_comments == 6 and paper.local_upvotes == 1
    return paper, thread, reply


def assert_carol_is_gone_but_bobs_reply_stays(client, paper, thread, reply):
    paper.refresh_from_db()
    # bob's reply and alice's comment are shown; carol's thread stays as their place
    assert paper.num_comments == 2
    assert paper.local_upvotes == 0 and paper.upvotes == 0
    kept = Comment.objects.get(pk=thread.pk)
    assert kept.user is None and kept.body == "" and kept.body_html == ""
    assert kept.deleted_at is not None
    assert Comment.objects.get(pk=reply.pk).parent_id == thread.pk
    reply.refresh_from_db()
    assert reply.downvotes == 0 and reply.score == 0.0
    assert set(Comment.objects.values_list("body", flat=True)) == {
        "",
        "bob answers",
        "alice says hi",
    }
    assert not CommentVote.objects.exists()  # carol's, and alice's on carol's lone comment
    assert not CommentReport.objects.exists()

    page = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "Discussion (2)" in page and "[deleted account]" in page
    assert "bob answers" in page and "carol" not in page
    assert client.get("/api/daily_papers").json()[0]["numComments"] == 2
    assert client.get(f"/api/papers/{paper.arxiv_id}").json()["numComments"] == 2
    assert "2 comments" in client.get("/").content.decode()


def read_everywhere(client, paper):
    """Readers see the counts before the account goes (pages may be cached)."""
    assert "Discussion (6)" in client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert client.get("/api/daily_papers").json()[0]["numComments"] == 6
    assert "6 comments" in client.get("/").content.decode()


def test_an_operator_deletes_an_account_in_the_admin(client, discussion, carol, operator):
    paper, thread, reply = discussion
    read_everywhere(client, paper)
    client.force_login(operator)
    page = client.get(f"/admin/auth/user/{carol.pk}/delete/")
    assert page.status_code == 200
    response = client.post(f"/admin/auth/user/{carol.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    client.logout()
    assert not type(carol).objects.filter(username="carol").exists()
    assert_carol_is_gone_but_bobs_reply_stays(client, paper, thread, reply)


def test_a_member_deletes_their_account(client, discussion, carol):
    paper, thread, reply = discussion
    read_everywhere(client, paper)
    client.force_login(carol)
    page = client.get("/settings").content.decode()
    assert "Delete your account" in page and "[deleted account]" in page
    wrong = client.post("/settings/delete", {"delete-password": "not it"})
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.content.decode()
    assert type(carol).objects.filter(username="carol").exists()
    response = client.post("/settings/delete", {"delete-password": "stapler 3 x"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "The account carol is deleted" in response.content.decode()
    assert "Sign in" in response.content.decode()  # signed out
    assert not type(carol).objects.filter(username="carol").exists()
    assert_carol_is_gone_but_bobs_reply_stays(client, paper, thread, reply)


def test_a_comment_its_author_deleted_keeps_its_place_when_the_account_goes(
    client, make_paper, bob, carol
):
    paper = make_paper()
    thread = comment_post(user=carol, paper=paper, body="first")
    deeper = comment_post(user=carol, paper=paper, body="carol goes on", parent=thread)
    comment_post(user=bob, paper=paper, body="bob under carol's second", parent=deeper)
    comment_delete(user=carol, comment=thread)
    carol.delete()
    paper.refresh_from_db()
    assert paper.num_comments == 1
    assert Comment.objects.filter(user=None).count() == 2  # both carol's, above bob's
    page = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert page.count("[deleted account]") == 2 and "bob under carol" in page


def test_notifications_that_quote_a_deleted_account_go(make_paper, bob, carol):
    paper = make_paper()
    thread = comment_post(user=bob, paper=paper, body="bob asks")
    answer = comment_post(user=carol, paper=paper, body="carol's words @bob", parent=thread)
    comment_post(user=bob, paper=paper, body="bob thanks", parent=answer)
    assert Notification.objects.filter(user=bob, actor=carol).count() == 1
    carol.delete()
    assert not Notification.objects.filter(user=bob).exists()
    assert Comment.objects.filter(pk=answer.pk, body="").exists()  # the place stays
    assert Comment.objects.filter(body="bob thanks").exists()
