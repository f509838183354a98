"""The notifications model other apps build on: idempotent, never about yourself, read on
the site or handed to the digest once."""

from dailypapers.notifications.models import Notification
from dailypapers.notifications.selectors import notifications_for_digest, unread_count
from dailypapers.notifications.services import (
    notification_create,
    notifications_mark_digested,
    notifications_mark_read,
)

PAPER = Notification.Kind.AUTHOR_PAPER


def test_it_tells_a_member_once_per_thing(alice, bob, make_paper):
    paper = make_paper()
    first = notification_create(user=alice, kind=PAPER, paper=paper, text="x" * 400)
    assert first is not None and len(first.text) == 300
    assert notification_create(user=alice, kind=PAPER, paper=paper) is None  # re-run: no twin
    assert notification_create(user=bob, kind=PAPER, paper=paper) is not None
    assert notification_create(user=alice, kind=PAPER, actor=alice, paper=make_paper()) is None
    assert Notification.objects.count() == 2
    assert first.get_absolute_url() == paper.get_absolute_url()


def test_it_skips_inactive_members(alice, make_paper):
    alice.is_active = False
    alice.save()
    assert notification_create(user=alice, kind=PAPER, paper=make_paper()) is None


def test_read_and_digested_are_per_member(alice, bob, make_paper):
    papers = [make_paper() for _ in range(3)]
    for paper in papers:
        notification_create(user=alice, kind=PAPER, paper=paper)
    notification_create(user=bob, kind=PAPER, paper=papers[0])
    assert unread_count(user=alice) == 3
    first = Notification.objects.filter(user=alice).order_by("pk").first()
    assert notifications_mark_read(user=bob, ids=[first.pk]) == 0  # not bob's
    assert notifications_mark_read(user=alice, ids=[first.pk]) == 1
    assert unread_count(user=alice) == 2

    due = notifications_for_digest(user=alice)
    assert [n.paper for n in due] == papers[1:]  # unread, oldest first
    assert notifications_mark_digested(notifications=due) == 2
    assert notifications_for_digest(user=alice) == []
    assert unread_count(user=alice) == 2  # still unread on the site
    assert len(notifications_for_digest(user=bob)) == 1
    assert notifications_mark_read(user=alice) == 2 and unread_count(user=alice) == 0
