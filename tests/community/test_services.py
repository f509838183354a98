"""The discussion's rules: threads, edits, votes and Wilson order, reports, bans, the
new-member wait and the rate limits, and who is told about what."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from dailypapers.community import services
from dailypapers.community.models import Comment, CommentReport
from dailypapers.community.selectors import discussion
from dailypapers.community.services import (
    CommentError,
    comment_delete,
    comment_edit,
    comment_post,
    comment_report,
    comment_vote,
    comments_set_hidden,
    member_ban,
    member_unban,
    wilson_lower_bound,
)
from dailypapers.notifications.models import Notification
from dailypapers.papers.models import DailyEntry
from dailypapers.papers.services import RateLimited, vote_cast


def count(paper):
    paper.refresh_from_db()
    return paper.num_comments


def test_wilson_lower_bound_prefers_many_good_votes_over_one():
    assert wilson_lower_bound(0, 0) == 0
    assert round(wilson_lower_bound(1, 0), 4) == 0.2065
    assert wilson_lower_bound(10, 1) > wilson_lower_bound(1, 0)
    assert wilson_lower_bound(5, 5) < wilson_lower_bound(5, 0)


def test_it_threads_replies_and_sorts_each_level_by_wilson(paper, alice, bob, carol):
    first = comment_post(user=alice, paper=paper, body="first")
    second = comment_post(user=bob, paper=paper, body="second")
    reply = comment_post(user=carol, paper=paper, body="a reply", parent=first)
    nested = comment_post(user=alice, paper=paper, body="nested", parent=reply)
    assert [c.body for c in discussion(paper=paper)] == ["first", "a reply", "nested", "second"]
    comment_vote(user=alice, comment=second, value=1)
    comment_vote(user=carol, comment=second, value=1)
    shown = discussion(paper=paper)
    assert [(c.body, c.depth) for c in shown] == [
        ("second", 0),
        ("first", 0),
        ("a reply", 1),
        ("nested", 2),
    ]
    assert count(paper) == 4
    assert nested.parent_id == reply.pk


def test_a_reply_must_be_on_the_same_paper_and_to_a_shown_comment(make_paper, paper, alice, bob):
    parent = comment_post(user=alice, paper=paper, body="parent")
    with pytest.raises(CommentError, match="no longer there"):
        comment_post(user=bob, paper=make_paper(), body="elsewhere", parent=parent)
    comment_delete(user=alice, comment=parent)
    parent.refresh_from_db()
    with pytest.raises(CommentError, match="no longer there"):
        comment_post(user=bob, paper=paper, body="too late", parent=parent)


def test_replies_and_mentions_notify_once_and_never_yourself(paper, alice, bob, carol):
    parent = comment_post(user=alice, paper=paper, body="what about @carol's result?")
    assert list(Notification.objects.values_list("user__username", "kind")) == [
        ("carol", "mention")
    ]
    reply = comment_post(user=bob, paper=paper, body="@alice @alice see @bob", parent=parent)
    told = sorted(Notification.objects.values_list("user__username", "kind", "comment_id"))
    assert told == [
        ("alice", "reply", reply.pk),  # a reply that also mentions: told once
        ("carol", "mention", parent.pk),
    ]
    comment_post(user=alice, paper=paper, body="thanks, me", parent=reply)
    assert Notification.objects.filter(user=bob, kind="reply").count() == 1
    assert not Notification.objects.filter(user=alice, actor=alice).exists()


def test_only_the_author_edits_and_only_within_the_window(paper, alice, bob, carol, settings):
    settings.COMMENT_EDIT_MINUTES = 30
    comment = comment_post(user=alice, paper=paper, body="draft")
    with pytest.raises(CommentError, match="Only its author"):
        comment_edit(user=bob, comment=comment, body="hijacked")
    comment_edit(user=alice, comment=comment, body="better, cc @carol")
    comment.refresh_from_db()
    assert comment.body == "better, cc @carol" and comment.edited_at is not None
    assert '<a href="/u/carol" class="mention"' in comment.body_html
    assert Notification.objects.filter(user=carol, kind="mention").count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        with pytest.raises(CommentError, match="30 minutes"):
            comment_edit(user=alice, comment=comment, body="rewriting history")
    comment.refresh_from_db()
    assert comment.body == "better, cc @carol"


def test_only_the_author_deletes_and_the_thread_keeps_its_place(paper, alice, bob):
    parent = comment_post(user=alice, paper=paper, body="parent")
    comment_post(user=bob, paper=paper, body="child", parent=parent)
    with pytest.raises(CommentError, match="Only its author"):
        comment_delete(user=bob, comment=parent)
    comment_delete(user=alice, comment=parent)
    comment_delete(user=alice, comment=parent)  # twice: counted once
    assert count(paper) == 1
    shown = discussion(paper=paper)
    assert [(c.placeholder, c.body) for c in shown] == [(True, ""), (False, "child")]
    assert Comment.objects.get(pk=parent.pk).body == ""  # the text is gone, not just hidden


def test_votes_are_one_per_member_and_not_on_your_own(paper, alice, bob, carol):
    comment = comment_post(user=alice, paper=paper, body="vote on me")
    with pytest.raises(CommentError, match="your own"):
        comment_vote(user=alice, comment=comment, value=1)
    comment_vote(user=bob, comment=comment, value=1)
    comment_vote(user=bob, comment=comment, value=1)
    comment_vote(user=carol, comment=comment, value=-1)
    comment.refresh_from_db()
    assert (comment.upvotes, comment.downvotes) == (1, 1)
    assert comment.score == pytest.approx(wilson_lower_bound(1, 1))
    comment_vote(user=carol, comment=comment, value=0)
    comment.refresh_from_db()
    assert (comment.upvotes, comment.downvotes) == (1, 0)
    with pytest.raises(CommentError):
        comment_vote(user=carol, comment=comment, value=5)


def test_moderators_hide_and_restore_keeping_counts_and_the_queue(
    paper, alice, bob, carol, moderator
):
    comment = comment_post(user=alice, paper=paper, body="rude")
    comment_report(user=bob, comment=comment, reason="abuse", note="insulting")
    with pytest.raises(CommentError, match="already"):
        comment_report(user=bob, comment=comment, reason="spam")
    with pytest.raises(CommentError, match="your own"):
        comment_report(user=alice, comment=comment, reason="spam")
    comments_set_hidden(
        comments=Comment.objects.filter(pk=comment.pk), hidden=True, moderator=moderator
    )
    assert count(paper) == 0
    report = CommentReport.objects.get()
    assert report.outcome == "hidden" and report.resolved_by == moderator
    assert discussion(paper=paper) == []
    shown = discussion(paper=paper, viewer=moderator)  # moderators see it, to restore it
    assert [(c.body, c.hidden, c.can_moderate) for c in shown] == [("rude", True, True)]
    comments_set_hidden(comments=Comment.objects.filter(pk=comment.pk), hidden=False)
    assert count(paper) == 1


def test_enough_reports_hide_a_comment_until_a_moderator_looks(
    paper, alice, bob, carol, moderator, settings
):
    settings.COMMENT_REPORTS_TO_HIDE = 2
    comment = comment_post(user=alice, paper=paper, body="buy cheap pills")
    comment_report(user=bob, comment=comment, reason="spam")
    comment.refresh_from_db()
    assert not comment.hidden
    comment_report(user=carol, comment=comment, reason="spam")
    comment.refresh_from_db()
    assert comment.hidden and count(paper) == 0
    assert CommentReport.objects.filter(resolved_at__isnull=True).count() == 2  # still queued


def test_a_banned_member_cannot_take_part_until_the_ban_ends(paper, alice, bob, moderator):
    other = comment_post(user=bob, paper=paper, body="hello")
    mine = comment_post(user=alice, paper=paper, body="spam")
    member_ban(user=alice, moderator=moderator, reason="spam")
    mine.refresh_from_db()
    assert mine.hidden and count(paper) == 1
    for action in (
        lambda: comment_post(user=alice, paper=paper, body="more spam"),
        lambda: comment_post(user=alice, paper=paper, body="reply", parent=other),
        lambda: comment_vote(user=alice, comment=other, value=-1),
        lambda: comment_report(user=alice, comment=other, reason="spam"),
    ):
        with pytest.raises(CommentError, match="may not take part"):
            action()
    member_unban(user=alice)
    comment_post(user=alice, paper=paper, body="sorry")
    member_ban(user=bob, until=timezone.now() + dt.timedelta(days=1), hide_comments=False)
    with pytest.raises(CommentError, match="until"):
        comment_post(user=bob, paper=paper, body="x")
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        comment_post(user=bob, paper=paper, body="back")


def test_new_accounts_wait_or_need_a_first_upvote(paper, make_paper, alice, bob, settings):
    settings.NEW_MEMBER_WAIT_HOURS = 24
    with pytest.raises(CommentError, match="New accounts can comment from"):
        comment_post(user=alice, paper=paper, body="first!")
    submitted = make_paper()
    DailyEntry.objects.create(
        paper=submitted, day=timezone.localdate(), submitted_by=alice,
        submitted_at=timezone.now(), source="member",
    )  # fmt: skip
    vote_cast(user=alice, paper=submitted)  # your own upvote does not count
    with pytest.raises(CommentError):
        comment_post(user=alice, paper=paper, body="first!")
    vote_cast(user=bob, paper=submitted)
    comment_post(user=alice, paper=paper, body="first!")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        comment_post(user=bob, paper=paper, body="after a day")


def test_rate_limits_per_member(paper, alice, bob, carol, settings):
    settings.COMMENTS_PER_HOUR = 2
    settings.COMMENT_VOTES_PER_HOUR = 1
    settings.COMMENT_REPORTS_PER_DAY = 1
    first = comment_post(user=alice, paper=paper, body="one")
    second = comment_post(user=alice, paper=paper, body="two")
    with pytest.raises(RateLimited, match="Too many comments") as error:
        comment_post(user=alice, paper=paper, body="three")
    assert error.value.retry_after == 3600
    comment_post(user=bob, paper=paper, body="bob is not limited by alice")
    comment_vote(user=carol, comment=first, value=1)
    with pytest.raises(RateLimited, match="Too many votes"):
        comment_vote(user=carol, comment=second, value=1)
    comment_report(user=carol, comment=first, reason="other")
    with pytest.raises(RateLimited, match="Too many reports"):
        comment_report(user=carol, comment=second, reason="other")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, minutes=1)):
        comment_post(user=alice, paper=paper, body="an hour later")


def test_comment_bodies_are_checked(paper, alice):
    for body, message in [
        ("  ", "Write something"),
        ("x" * 5001, "limited"),
        ("a\x00", "cannot be stored"),
    ]:
        with pytest.raises(CommentError, match=message):
            comment_post(user=alice, paper=paper, body=body)
    assert not services.Comment.objects.exists()


def test_a_thread_deeper_than_pythons_stack_still_shows(paper, alice, bob):
    import sys

    parent = None
    for number in range(sys.getrecursionlimit() + 50):  # rows written directly: fast
        parent = Comment.objects.create(paper=paper, user=alice, parent=parent, body=f"{number}")
    shown = discussion(paper=paper, viewer=bob)
    assert len(shown) == sys.getrecursionlimit() + 50
    assert shown[-1].depth == 6  # shown at the deepest indent
