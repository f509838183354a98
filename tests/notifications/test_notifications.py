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


BODY = (
    "**Nice paper**, @bob! The loss $\\mathcal{L}(\\theta)$ is fine.\n\n"
    "```python\nloss = step(x)\n```\n\n" + "More words here. " * 20
)


def test_a_comment_notification_shows_the_comment_as_it_is_now_in_plain_words(
    client, alice, bob, make_paper
):
    from dailypapers.community.services import comment_delete, comment_edit, comment_post

    comment = comment_post(user=alice, paper=make_paper(), body=BODY)
    client.force_login(bob)
    html = client.get("/notifications").content.decode()
    assert "alice mentioned you" in html
    # plain words: no Markdown punctuation; the formula stays as TeX; cut at a word
    assert "Nice paper, @bob! The loss $\\mathcal{L}(\\theta)$ is fine. loss = step(x)" in html
    assert "**" not in html and "```" not in html
    [note] = notifications_for_digest(user=bob)
    cut = note.snippet.removesuffix("…")
    full = "Nice paper, @bob! The loss $\\mathcal{L}(\\theta)$ is fine. loss = step(x) " + (
        "More words here. " * 20
    )
    assert len(note.snippet) <= 200 and full.startswith(cut) and full[len(cut)] == " "

    comment_edit(user=alice, comment=comment, body="Nice paper, @bob. *Edited* since.")
    html = client.get("/notifications").content.decode()
    assert "Nice paper, @bob. Edited since." in html and "theta" not in html
    assert notifications_for_digest(user=bob)[0].snippet == "Nice paper, @bob. Edited since."

    comment_delete(user=alice, comment=comment)
    html = client.get("/notifications").content.decode()
    assert "Nice paper" not in html and "alice mentioned you" not in html
    assert notifications_for_digest(user=bob) == [] and unread_count(user=bob) == 0
    assert not Notification.objects.filter(text__contains="Nice").exists()  # no copy kept


def test_a_comment_hidden_by_a_moderator_is_not_shown_in_notifications(
    client, alice, bob, make_paper
):
    from dailypapers.community.models import Comment
    from dailypapers.community.services import comment_post, comments_set_hidden

    comment = comment_post(user=alice, paper=make_paper(), body="Spam for @bob")
    assert unread_count(user=bob) == 1
    comments_set_hidden(comments=Comment.objects.filter(pk=comment.pk), hidden=True)
    client.force_login(bob)
    html = client.get("/notifications").content.decode()
    assert "Spam" not in html and "alice mentioned you" not in html
    assert notifications_for_digest(user=bob) == [] and unread_count(user=bob) == 0
    comments_set_hidden(comments=Comment.objects.filter(pk=comment.pk), hidden=False)
    assert notifications_for_digest(user=bob)[0].snippet == "Spam for @bob"  # shown again


def test_the_migration_forgets_comment_text_copied_before(alice, bob, make_paper):
    import importlib

    from django.apps import apps

    from dailypapers.community.services import comment_post

    migration = importlib.import_module(
        "dailypapers.notifications.migrations.0003_comment_text_from_the_comment"
    )
    comment = comment_post(user=alice, paper=make_paper(), body="**Old** copy, @bob")
    Notification.objects.filter(comment=comment).update(text="**Old** copy, @bob")
    paper_note = notification_create(user=bob, kind=PAPER, paper=make_paper(), text="A: title")
    migration.forget_copied_comment_text(apps, None)
    assert Notification.objects.get(comment=comment).text == ""
    paper_note.refresh_from_db()
    assert paper_note.text == "A: title"
