"""The discussion through the paper page and its forms, signed in or not, with who may do
what; and numComments in the API."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from dailypapers.community.models import Comment, CommentReport
from dailypapers.community.services import comment_post, comment_vote, member_ban
from dailypapers.notifications.models import Notification
from dailypapers.papers.models import DailyEntry
from dailypapers.papers.services import vote_cast


@pytest.fixture
def thread(paper, alice):
    return comment_post(user=alice, paper=paper, body="Does this hold for $n > 2$? **Sure?**")


def test_anonymous_readers_see_the_discussion_but_no_forms(client, paper, thread):
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert '<span class="math inline">$n &gt; 2$</span>' in html
    assert "<strong>Sure?</strong>" in html and "katex.min.js" in html
    assert f"/comments/{thread.pk}/reply" not in html and "Sign in</a> to join" in html
    response = client.post(f"/comments/{thread.pk}/reply", {"body": "hi"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_member_replies_and_the_author_is_notified(client, paper, thread, bob, alice):
    client.force_login(bob)
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert f'href="/comments/{thread.pk}/reply">Reply</a>' in html
    assert f"/comments/{thread.pk}/edit" not in html  # not bob's comment
    form = client.get(f"/comments/{thread.pk}/reply").content.decode()
    assert "Your reply to alice" in form and "<strong>Sure?</strong>" in form
    response = client.post(f"/comments/{thread.pk}/reply", {"body": "Yes, see §3."})
    reply = Comment.objects.get(parent=thread)
    assert response["Location"] == f"/papers/{paper.arxiv_id}#comment-{reply.pk}"
    assert Notification.objects.get(user=alice).comment == reply

    client.force_login(alice)
    html = client.get("/notifications").content
    assert b"bob replied to your comment" in html
    assert b'<span class="badge" title="unread">1</span>' in html
    opened = client.get(f"/notifications/{Notification.objects.get().pk}")
    assert opened["Location"] == f"/papers/{paper.arxiv_id}#comment-{reply.pk}"
    assert b'title="unread"' not in client.get("/notifications").content


def test_members_cannot_open_or_read_each_others_notifications(client, paper, thread, bob):
    comment_post(user=bob, paper=paper, body="reply", parent=thread)
    notification = Notification.objects.get()
    client.force_login(bob)
    assert client.get(f"/notifications/{notification.pk}").status_code == 404
    assert b"replied" not in client.get("/notifications").content
    notification.refresh_from_db()
    assert notification.read_at is None


def test_refused_replies_keep_the_text_and_say_why(client, paper, thread, bob, settings):
    settings.COMMENTS_PER_HOUR = 0
    client.force_login(bob)
    response = client.post(f"/comments/{thread.pk}/reply", {"body": "my long thoughts"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many comments" in html and "my long thoughts</textarea>" in html
    response = client.post(f"/comments/{thread.pk}/vote", {"value": "sideways"})
    assert response.status_code == 400 and "up, down, or none" in response.content.decode()


def test_only_the_author_may_edit_or_delete_through_the_pages(client, paper, thread, bob, alice):
    client.force_login(bob)
    response = client.post(f"/comments/{thread.pk}/edit", {"body": "mine now"})
    assert response.status_code == 400 and "Only its author" in response.content.decode()
    assert client.post(f"/comments/{thread.pk}/delete").status_code == 400
    thread.refresh_from_db()
    assert thread.body.startswith("Does this hold")
    client.force_login(alice)
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert f'href="/comments/{thread.pk}/edit">Edit</a>' in html
    assert f'formaction="/comments/{thread.pk}/delete">Delete</button>' in html
    form = client.get(f"/comments/{thread.pk}/edit").content.decode()
    assert "Does this hold for $n &gt; 2$? **Sure?**</textarea>" in form
    client.post(f"/comments/{thread.pk}/edit", {"body": "Edited <script>x</script>"})
    thread.refresh_from_db()
    assert thread.body_html == "<p>Edited &lt;script&gt;x&lt;/script&gt;</p>\n"
    client.post(f"/comments/{thread.pk}/delete")
    paper.refresh_from_db()
    assert paper.num_comments == 0


def test_only_moderators_hide_from_the_page(client, paper, thread, bob, moderator):
    client.force_login(bob)
    assert client.post(f"/comments/{thread.pk}/hide").status_code == 403
    client.post(f"/comments/{thread.pk}/report", {"reason": "off_topic", "note": "not about it"})
    assert CommentReport.objects.get().note == "not about it"
    client.force_login(moderator)
    page = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert f'formaction="/comments/{thread.pk}/hide">Hide</button>' in page
    client.post(f"/comments/{thread.pk}/hide")
    thread.refresh_from_db()
    assert thread.hidden and CommentReport.objects.get().outcome == "hidden"
    client.logout()
    assert "Does this hold" not in client.get(f"/papers/{paper.arxiv_id}").content.decode()


def test_upvoting_a_comment_from_the_page(client, paper, thread, bob):
    client.force_login(bob)
    client.post(f"/comments/{thread.pk}/vote", {"value": "1"})
    thread.refresh_from_db()
    assert thread.upvotes == 1
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    # pressed: a click takes it back
    assert 'name="value" value="0" aria-pressed="true" title="Upvote"' in html


def test_num_comments_follows_the_discussion_in_the_api_and_listings(
    client, paper, thread, bob, feature
):
    feature(paper)
    comment_post(user=bob, paper=paper, body="second", parent=thread)
    day = client.get("/api/daily_papers").json()
    assert day[0]["numComments"] == 2 and day[0]["paper"]["id"] == paper.arxiv_id
    assert "2 comments" in client.get("/").content.decode()
    client.force_login(bob)
    client.post(f"/comments/{Comment.objects.get(parent=thread).pk}/delete")
    client.logout()
    assert client.get("/api/daily_papers").json()[0]["numComments"] == 1
    assert "1 comment<" in client.get("/").content.decode()


def test_the_moderators_group_is_enough_to_moderate(client, django_user_model, alice, paper):
    from django.contrib.auth.models import Group

    comment = comment_post(user=alice, paper=paper, body="spam")
    member = django_user_model.objects.create_user("helper", "h@example.org", "pw 5 pw x")
    member.is_staff = True
    member.save()
    member.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(member)
    queue = client.get("/admin/community/commentreport/?state=open")
    assert queue.status_code == 200
    response = client.post(
        "/admin/community/comment/",
        {"action": "hide", "_selected_action": [comment.pk]},
    )
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.hidden
    client.force_login(alice)  # members without the group: no admin at all
    assert client.get("/admin/community/comment/").status_code == 302


def test_the_permission_alone_does_not_make_a_member_a_moderator(
    client, django_user_model, paper, thread
):
    from django.contrib.auth.models import Permission

    member = django_user_model.objects.create_user("half", "half@example.org", "pw 6 pw x")
    member.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    client.force_login(member)
    assert client.post(f"/comments/{thread.pk}/hide").status_code == 403


def test_a_long_discussion_costs_no_query_per_comment(client, paper, thread, alice, bob):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(bob)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/papers/{paper.arxiv_id}").status_code == 200
        return len(captured)

    queries()  # warm: related papers load their vector index once per process
    one = queries()
    parent = thread
    for number in range(12):  # a deep thread with votes
        parent = comment_post(user=bob if number % 2 else alice, paper=paper, body=f"{number}",
                              parent=parent)  # fmt: skip
        if number % 2 == 0:
            comment_vote(user=bob, comment=parent, value=1)
    assert queries() == one


NOW = dt.datetime(2026, 12, 5, 16, 40, tzinfo=dt.UTC)


def new_comment_form(html):
    return 'class="stack new-comment"' in html


def test_a_new_account_is_told_when_it_can_comment_before_writing(
    client, paper, thread, bob, alice, make_paper, settings
):
    settings.NEW_MEMBER_WAIT_HOURS = 24
    bob.date_joined = NOW - dt.timedelta(hours=22)  # two hours left
    bob.save()
    alice.date_joined = NOW - dt.timedelta(days=3)
    alice.save()
    waiting = "New accounts can comment from December 5, 18:40 UTC (in 2\xa0hours)"
    with time_machine.travel(NOW, tick=False):
        client.force_login(bob)
        html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
        assert waiting in html and not new_comment_form(html)
        reply = client.get(f"/comments/{thread.pk}/reply").content.decode()
        assert waiting in reply and 'name="body"' not in reply

        # The server still says no to a post from a page opened earlier, and keeps the text.
        response = client.post(f"/papers/{paper.arxiv_id}/comments", {"body": "Great <b>!"})
        html = response.content.decode()
        assert response.status_code == 400 and waiting in html
        assert '<pre class="kept-text">Great &lt;b&gt;!</pre>' in html
        assert not Comment.objects.filter(user=bob).exists()

        client.force_login(alice)  # an older account: the form, no notice
        html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
        assert new_comment_form(html) and "New accounts can comment" not in html

    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=59, seconds=30), tick=False):
        client.force_login(bob)
        html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
        assert "(in less than a minute)" in html

    with time_machine.travel(NOW, tick=False):  # someone upvoted a paper bob submitted
        submitted = make_paper()
        DailyEntry.objects.create(
            paper=submitted, day=NOW.date(), submitted_by=bob, submitted_at=NOW, source="member"
        )
        vote_cast(user=alice, paper=submitted)
        html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
        assert new_comment_form(html) and "New accounts can comment" not in html


def test_a_banned_member_reads_why_instead_of_the_form(client, paper, bob):
    member_ban(user=bob, until=timezone.now() + dt.timedelta(days=3), hide_comments=False)
    client.force_login(bob)
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "Your account may not take part in discussions until" in html
    assert not new_comment_form(html)


def nested_fraction(depth):
    return "$$" + "\\frac{1}{" * depth + "x" + "}" * depth + "$$"


def test_math_that_could_crash_a_browser_is_refused_with_the_text_kept(
    client, paper, thread, alice
):
    client.force_login(alice)
    url = f"/papers/{paper.arxiv_id}"
    for body, says in [
        (f"Look: {nested_fraction(200)}", "nests more than 24 levels deep"),
        ("Long: $" + "x+" * 1200 + "x$", "longer than 2,000 characters"),
        ("$" + "\\left(" * 30 + "x" + "\\right)" * 30 + "$", "nests more than 24 levels deep"),
        ("$\\def\\f#1{\\frac1{#1}}\\f{\\f{x}}$", "cannot define commands"),
    ]:
        response = client.post(f"{url}/comments", {"body": body})
        html = response.content.decode()
        assert response.status_code == 400 and says in html, body[:40]
        assert body[:20] in html  # the text is kept in the form
    assert Comment.objects.count() == 1  # only the thread

    # editing into such a formula is refused too, the edit kept in the form
    response = client.post(f"/comments/{thread.pk}/edit", {"body": nested_fraction(30)})
    html = response.content.decode()
    assert response.status_code == 400 and "nests more than 24 levels deep" in html
    assert "\\frac{1}{\\frac{1}{" in html
    thread.refresh_from_db()
    assert thread.body.startswith("Does this hold")

    # ordinary formulas, even rich ones, pass
    fine = "$$\\left(\\frac{1}{\\frac{1}{\\sqrt{x}}}\\right)$$ $\\begin{pmatrix}a\\end{pmatrix}$"
    response = client.post(f"{url}/comments", {"body": fine + " and " + nested_fraction(24)})
    assert response.status_code == 302


def test_reply_and_report_pages_load_the_math_typesetter_for_the_quoted_comment(
    client, paper, thread, bob
):
    client.force_login(bob)
    for action in ("reply", "report"):
        html = client.get(f"/comments/{thread.pk}/{action}").content.decode()
        assert '<span class="math inline">$n &gt; 2$</span>' in html
        assert "web/katex/katex.min.js" in html and "web/math.js" in html, action
        assert "web/katex/katex.min.css" in html and "<script>" not in html  # CSP: files only
    plain = comment_post(user=bob, paper=paper, body="No formula here.")
    html = client.get(f"/comments/{plain.pk}/reply").content.decode()
    assert "katex" not in html


def test_an_operator_deleting_comments_in_the_admin_leaves_the_counts_right(
    client, alice, paper, django_user_model
):
    thread = comment_post(user=alice, paper=paper, body="first")
    comment_post(user=alice, paper=paper, body="a reply", parent=thread)
    other = comment_post(user=alice, paper=paper, body="second")
    comment_post(user=alice, paper=paper, body="third")
    operator = django_user_model.objects.create_superuser("op", "op@example.org", "op 5 op x")
    client.force_login(operator)
    response = client.post(f"/admin/community/comment/{thread.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    paper.refresh_from_db()
    assert paper.num_comments == 2  # the thread and its reply went
    bulk = {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
    assert client.post("/admin/community/comment/", bulk).status_code == 302
    paper.refresh_from_db()
    assert paper.num_comments == 1
