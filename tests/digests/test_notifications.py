"""A member's unread notifications ride along in their next digest, once; never a mail of
their own (community/notifications apps)."""

import datetime as dt

from dailypapers.community.services import comment_post
from dailypapers.digests.sending import digest_send
from dailypapers.notifications.models import Notification

TUE = dt.date(2025, 12, 30)
WED = dt.date(2025, 12, 31)


def test_unread_notifications_go_into_the_next_digest_once(smtp, load_day, subscriber, alice, bob):
    papers = load_day("2025-12-30")
    mine = comment_post(user=alice, paper=papers[0], body="A question about Table 2?")
    comment_post(user=bob, paper=papers[0], body="See the *appendix*, @alice.", parent=mine)
    comment_post(user=bob, paper=papers[1], body="cc @alice <script>x</script>")
    read = Notification.objects.get(paper=papers[1])
    read.read_at = read.created_at  # seen on the site already: not mailed
    read.save()
    subscriber("alice@example.org", user=alice)
    subscriber("other@example.org")

    digest_send(today=TUE)

    by_address = {message.to: message for message in smtp.received}
    text, html = (
        by_address["alice@example.org"].part("plain"),
        by_address["alice@example.org"].part("html"),
    )
    assert "bob replied to your comment on “" + papers[0].title in text
    assert '"See the appendix, @alice."' in text  # plain words, not Markdown
    assert f"https://papers.example.org/papers/{papers[0].arxiv_id}#comment-" in html
    assert "mentioned you" not in text and "<script>x" not in html
    assert "For you on" not in by_address["other@example.org"].part("plain")
    assert Notification.objects.filter(digested_at__isnull=False).count() == 1

    load_day("2025-12-31")
    smtp.received.clear()
    digest_send(today=WED)
    assert "For you on" not in smtp.received[0].part("plain")  # told once


def test_a_deleted_or_edited_comment_is_mailed_as_it_is_now(smtp, load_day, subscriber, alice, bob):
    from dailypapers.community.services import comment_delete, comment_edit

    papers = load_day("2025-12-30")
    gone = comment_post(user=alice, paper=papers[0], body="**Nice paper**, @bob: gone soon")
    edited = comment_post(user=alice, paper=papers[1], body="First words, @bob")
    comment_edit(user=alice, comment=edited, body="Second `words`, @bob")
    comment_delete(user=alice, comment=gone)
    subscriber("bob@example.org", user=bob)

    digest_send(today=TUE)

    text = smtp.received[0].part("plain")
    html = smtp.received[0].part("html")
    assert '"Second words, @bob"' in text and "Second words, @bob" in html
    assert "First words" not in text + html
    assert "Nice paper" not in text + html and "gone soon" not in text + html
    assert text.count("alice mentioned you") == 1


def test_notifications_alone_never_make_a_mail(smtp, subscriber, alice, bob, make_paper):
    paper = make_paper()
    mine = comment_post(user=alice, paper=paper, body="hello")
    comment_post(user=bob, paper=paper, body="hi", parent=mine)
    subscriber("alice@example.org", user=alice)
    digest_send(today=TUE)  # no papers that day: no digest, the notification waits
    assert smtp.received == []
    assert Notification.objects.get().digested_at is None
