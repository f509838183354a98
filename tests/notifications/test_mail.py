"""Replies and mentions mailed to a member whom no digest reaches: one mail an hour at
most, each notification once, and a link that stops them."""

import datetime as dt
import re

import time_machine
from django.utils import timezone

from dailypapers.community.services import comment_delete, comment_post
from dailypapers.digests.models import Subscription
from dailypapers.notifications.models import MailPreference, Notification
from dailypapers.notifications.services import notification_mails_send
from dailypapers.notifications.tasks import send_notification_mails


def off_path(message):
    return re.search(r"https?://[^/\s]+(/notifications/stop/\S+)", message.body)[1]


def test_replies_and_mentions_are_mailed_once_batched_at_most_hourly(
    alice, bob, make_paper, mailoutbox
):
    paper = make_paper(title="Sparse attention")
    mine = comment_post(user=bob, paper=paper, body="My question")
    comment_post(user=alice, paper=paper, body="**Answer**, see `code`", parent=mine)
    comment_post(user=alice, paper=make_paper(), body="cc @bob, and $x^2$")
    gone = comment_post(user=alice, paper=make_paper(), body="@bob secret words")
    comment_delete(user=alice, comment=gone)

    assert notification_mails_send() == 1
    [message] = mailoutbox
    assert message.to == ["bob@example.org"]
    assert message.subject == "2 replies and mentions on dailypapers"
    assert "alice replied to your comment on “Sparse attention”" in message.body
    assert '"Answer, see code"' in message.body and '"cc @bob, and $x^2$"' in message.body
    assert "secret words" not in message.body and "**" not in message.body
    assert f"#comment-{mine.pk + 1}" in message.body
    assert message.extra_headers["List-Unsubscribe"].endswith(f"{off_path(message)}>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    wire = message.message().as_string()
    unfolded = " ".join(wire.split())
    assert f"List-Unsubscribe: <http://127.0.0.1:8000{off_path(message)}>" in unfolded
    assert "=?utf-8?" not in wire  # the link is not hidden in an encoded word
    assert Notification.objects.filter(user=bob, digested_at__isnull=True).count() == 1  # gone's

    # a new mention within the hour waits; nothing is mailed twice
    comment_post(user=alice, paper=paper, body="and again @bob")
    assert notification_mails_send() == 0 and len(mailoutbox) == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=61)):
        assert send_notification_mails.call() == "1 notification mails"  # the hourly task
    assert len(mailoutbox) == 2 and mailoutbox[1].subject.startswith("alice mentioned you")
    assert "and again @bob" in mailoutbox[1].body and "Answer" not in mailoutbox[1].body
    assert notification_mails_send() == 0


def test_no_mail_for_a_digest_subscriber_or_read_ones(alice, bob, make_paper, mailoutbox):
    Subscription.objects.create(
        user=bob, email="bob@example.org", frequency="daily", status="active"
    )
    comment_post(user=alice, paper=make_paper(), body="hi @bob")
    assert notification_mails_send() == 0  # the digest brings it
    Subscription.objects.filter(user=bob).update(frequency="off")
    Notification.objects.update(read_at=timezone.now())  # seen on the site
    assert notification_mails_send() == 0 and mailoutbox == []


def test_no_mail_to_an_address_not_confirmed_yet(alice, bob, make_paper, mailoutbox):
    from dailypapers.accounts.models import UnconfirmedEmail

    UnconfirmedEmail.objects.create(user=bob)
    comment_post(user=alice, paper=make_paper(), body="hi @bob")
    assert notification_mails_send() == 0 and mailoutbox == []
    UnconfirmedEmail.objects.filter(user=bob).delete()  # confirmed: what waited is mailed
    assert notification_mails_send() == 1 and mailoutbox[0].to == ["bob@example.org"]


def test_the_link_in_the_mail_and_the_page_turn_the_mails_off_and_on(
    client, alice, bob, make_paper, mailoutbox
):
    comment_post(user=alice, paper=make_paper(), body="hi @bob")
    notification_mails_send()
    path = off_path(mailoutbox[0])
    page = client.get(path)  # a link scanner changes nothing
    assert page.status_code == 200 and b"Stop these mails" in page.content
    assert not MailPreference.objects.filter(user=bob, enabled=False).exists()
    assert client.get(path[:-3] + "xyz").status_code == 404
    done = client.post(path)  # one click, no session, no CSRF token (RFC 8058)
    assert done.status_code == 200 and b"no longer be mailed" in done.content
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        comment_post(user=alice, paper=make_paper(), body="again @bob")
        assert notification_mails_send() == 0

    client.force_login(bob)
    html = client.get("/notifications").content.decode()
    assert "are not mailed to you" in html and "Mail them to me" in html
    client.post("/notifications/mail", {"enabled": "1"})
    assert MailPreference.objects.get(user=bob).enabled
    assert "Stop these mails" in client.get("/notifications").content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert notification_mails_send() == 1


def test_no_mail_to_an_address_whose_digests_bounce(alice, bob, make_paper, mailoutbox):
    Subscription.objects.create(
        user=bob, email="Bob@Example.org", frequency="daily", status="bouncing"
    )
    comment_post(user=alice, paper=make_paper(), body="hi @bob")
    assert notification_mails_send() == 0 and mailoutbox == []
    bob.email = "bob@new.example.org"  # a new address is tried again
    bob.save(update_fields=["email"])
    assert notification_mails_send() == 1 and mailoutbox[0].to == ["bob@new.example.org"]
