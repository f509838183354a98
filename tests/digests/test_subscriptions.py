"""Subscribe → confirmation mail over SMTP → confirm → manage → one-click unsubscribe."""

import re
from urllib.parse import urlsplit

import httpx
import pytest
import time_machine
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac

from dailypapers.digests import services
from dailypapers.digests.models import Follow, Subscription
from dailypapers.digests.selectors import follows_for_user

# Transactional: confirmation mails are queued on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)
SAME_ANSWER = "a message with a link is on its way"


@pytest.fixture(autouse=True)
def run_tasks_now(smtp, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def link_in(received, kind):
    text = received.part("plain")
    url = re.search(rf"https://papers\.example\.org(/[\w/.:-]*{kind}/[\w.:-]+)", text)
    assert url, text
    return url.group(1)


def test_it_confirms_with_a_signed_link_and_sends_nothing_before(smtp, client):
    response = client.post(
        "/subscribe",
        {"email": " Ada@Example.org ", "frequency": "weekly", "topics": "diffusion models\n"},
    )
    assert SAME_ANSWER in response.content.decode()
    subscription = Subscription.objects.get()
    assert (subscription.email, subscription.status) == ("ada@example.org", "pending")
    assert [(f.kind, f.value) for f in subscription.follows.all()] == [
        ("topic", "diffusion models")
    ]
    [mail] = smtp.received
    assert mail.to == "ada@example.org" and "Confirm" in mail.message["Subject"]
    path = link_in(mail, "confirm")

    page = client.get(path)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and b"Confirm my subscription" in page.content
    assert Subscription.objects.get().status == "pending"

    confirmed = client.post(path)
    assert confirmed.status_code == 200 and b"Confirmed" in confirmed.content
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.frequency == "weekly"
    assert len(smtp.received) == 1


def test_it_reveals_nothing_about_an_existing_address_and_sends_at_most_one_mail(
    smtp, client, subscriber
):
    subscriber("known@example.org", follows=[("topic", "robots")])
    new = client.post("/subscribe", {"email": "new@example.org", "frequency": "daily"})
    known = client.post("/subscribe", {"email": "known@example.org", "frequency": "weekly"})
    assert new.status_code == known.status_code == 200
    strip = re.compile(r"(new|known)@example\.org|<input[^>]*csrf[^>]*>")
    assert strip.sub("", new.content.decode()) == strip.sub("", known.content.decode())
    assert sorted(m.to for m in smtp.received) == ["known@example.org", "new@example.org"]
    manage_mail = smtp.to("known@example.org")[0]
    assert "already subscribed" in manage_mail.part("plain")
    known_row = Subscription.objects.get(email="known@example.org")
    assert known_row.frequency == "daily"  # a stranger cannot change someone's settings
    assert [f.value for f in known_row.follows.all()] == ["robots"]

    for _ in range(3):  # a form posted in a loop is not a mail cannon
        client.post("/subscribe", {"email": "known@example.org", "frequency": "daily"})
        client.post("/subscribe", {"email": "new@example.org", "frequency": "daily"})
    assert len(smtp.received) == 2


def test_it_refuses_expired_and_tampered_confirmation_links(smtp, client):
    client.post("/subscribe", {"email": "ada@example.org", "frequency": "daily"})
    path = link_in(smtp.received[0], "confirm")
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.post(tampered).status_code == 404
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        assert client.post(path).status_code == 404
    assert Subscription.objects.get().status == "pending"


def test_it_unsubscribes_in_one_click_over_real_http(smtp, live_server, subscriber, load_day):
    import datetime as dt

    from dailypapers.digests.sending import digest_send

    load_day("2025-12-30", limit=2)
    ada = subscriber("ada@example.org")
    other = subscriber("other@example.org")
    digest_send(today=dt.date(2025, 12, 30))
    message = smtp.to("ada@example.org")[0].message
    url = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
    local = live_server.url + urlsplit(url).path

    with httpx.Client() as http:
        page = http.get(local)  # link scanners GET: nothing happens
        assert page.status_code == 200 and "Unsubscribe" in page.text
        ada.refresh_from_db()
        assert ada.status == "active"

        bad = http.post(local[:-4] + "xxxx", data={"List-Unsubscribe": "One-Click"})
        assert bad.status_code == 404
        other_token = services.manage_token(other)
        assert other_token not in local

        # RFC 8058: the provider POSTs the body below, with no cookie and no CSRF token.
        done = http.post(local, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    ada.refresh_from_db()
    other.refresh_from_db()
    assert ada.status == "unsubscribed" and other.status == "active"


def test_it_kills_links_of_an_address_that_changed(db, subscriber):
    subscription = subscriber("old@example.org")
    token = services.manage_token(subscription)
    assert services.subscription_from_manage_token(token) == subscription
    Subscription.objects.filter(pk=subscription.pk).update(email="new@example.org")
    assert services.subscription_from_manage_token(token) is None
    assert services.subscription_from_manage_token("garbage") is None


def test_it_signs_manage_links_exactly_as_django_signing_does(db, subscriber, settings):
    # The fast token must stay the string signing.dumps makes, so that links already in
    # inboxes and new ones are read by the same signing.loads.
    subscription = subscriber("ada@example.org")
    for secret in ("one secret", "another secret"):
        settings.SECRET_KEY = secret
        with time_machine.travel("2026-12-04 10:00:00Z", tick=False):
            expected = signing.dumps(
                {
                    "s": subscription.pk,
                    "h": salted_hmac(
                        services.MANAGE_SALT, "ada@example.org", algorithm="sha256"
                    ).hexdigest()[:16],
                },
                salt=services.MANAGE_SALT,
            )
            assert services.manage_token(subscription) == expected
        assert services.subscription_from_manage_token(expected) == subscription


def test_it_saves_preferences_from_the_signed_link(client, subscriber):
    subscription = subscriber("ada@example.org")
    path = f"/subscribe/manage/{services.manage_token(subscription)}"
    response = client.post(
        path,
        {"frequency": "weekly", "topics": "graph neural networks", "categories": "cs.LG, cs.CL"},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.frequency == "weekly" and not subscription.include_trending
    assert sorted(f.value for f in subscription.follows.all()) == [
        "cs.CL",
        "cs.LG",
        "graph neural networks",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"email": "a@example.org\r\nBcc: x@example.org"}, "line breaks"),
        ({"email": "a" * 10_000 + "@example.org"}, "at most 254 characters"),
        ({"email": "a@example.org", "topics": "t" * 10_000}, "at most 4000 characters"),
        ({"email": "a@example.org", "topics": "x" * 300}, "200 characters at most"),
        ({"email": "a@example.org", "categories": "cs.CL\r\nBcc: x"}, "not an arXiv category"),
        ({"email": "a@example.org", "frequency": "hourly"}, "Select a valid choice"),
    ],
)
def test_it_answers_bad_input_with_a_clear_message(smtp, client, fields, message):
    response = client.post("/subscribe", {"frequency": "daily", **fields})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert smtp.received == [] and not Subscription.objects.exists()


def test_it_keeps_a_members_follows_on_a_silent_subscription(db, alice, bob):
    services.follow_add(user=alice, kind="topic", value="  diffusion   models ")
    services.follow_add(user=alice, kind="author", value="Yann LeCun")
    services.follow_add(user=alice, kind="topic", value="diffusion models")  # once
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [
        ("author", "Yann LeCun"),
        ("topic", "diffusion models"),
    ]
    assert Subscription.objects.get(user=alice).frequency == "off"
    assert follows_for_user(bob) == []
    assert services.follow_remove(user=alice, kind="author", value="Yann LeCun")
    assert Follow.objects.count() == 1


def test_it_subscribes_a_member_at_their_confirmed_address_without_a_second_link(
    smtp, client, alice
):
    # The account's address was confirmed by a signed link already: asking the member to
    # confirm it again for the digest only makes them wonder which mail is which.
    services.follow_add(user=alice, kind="topic", value="robotics")
    client.force_login(alice)
    page = client.get("/subscribe")
    assert b"alice@example.org" in page.content and b"robotics" in page.content
    answer = client.post(
        "/subscribe", {"email": "alice@example.org", "frequency": "daily", "topics": "robotics"}
    )
    text = " ".join(answer.content.decode().split())
    assert "alice@example.org will get the daily digest" in text
    assert SAME_ANSWER not in text
    assert smtp.received == []
    subscription = Subscription.objects.get(user=alice)
    assert (subscription.email, subscription.status, subscription.frequency) == (
        "alice@example.org",
        "active",
        "daily",
    )
    assert [f.value for f in subscription.follows.all()] == ["robotics"]


def test_a_member_who_unsubscribed_is_told_they_are_subscribed_again(smtp, client, alice):
    client.force_login(alice)
    client.post("/subscribe", {"email": "alice@example.org", "frequency": "daily"})
    services.subscription_unsubscribe(subscription=Subscription.objects.get(user=alice))
    again = client.post("/subscribe", {"email": "alice@example.org", "frequency": "weekly"})
    text = " ".join(again.content.decode().split())
    assert "alice@example.org will get the weekly digest" in text, text
    subscription = Subscription.objects.get(user=alice)
    assert (subscription.status, subscription.frequency) == ("active", "weekly")
    assert smtp.received == []


def test_it_still_mails_a_link_when_the_account_address_is_not_confirmed(smtp, client, alice):
    from dailypapers.accounts.models import UnconfirmedEmail

    UnconfirmedEmail.objects.create(user=alice)
    client.force_login(alice)
    answer = client.post("/subscribe", {"email": "alice@example.org", "frequency": "daily"})
    assert SAME_ANSWER in answer.content.decode()
    [mail] = smtp.received
    client.post(link_in(mail, "confirm"))
    assert Subscription.objects.get(user=alice).status == "active"


def test_it_mails_a_members_new_address_at_once_and_says_when_a_mail_is_held_back(
    smtp, client, bob
):
    client.force_login(bob)
    client.post("/subscribe", {"email": "bob.work@example.org", "frequency": "daily"})
    [first] = smtp.received
    client.post(link_in(first, "confirm"))

    # Minutes later, well within the interval, bob moves his digests to a new address.
    changed = client.post("/subscribe", {"email": "bob.new@example.org", "frequency": "daily"})
    assert SAME_ANSWER in changed.content.decode()
    assert [mail.to for mail in smtp.received] == ["bob.work@example.org", "bob.new@example.org"]
    client.post(link_in(smtp.received[1], "confirm"))
    assert Subscription.objects.get(user=bob).email == "bob.new@example.org"

    # Asked again for the same address at once: nothing is sent, and the page says so.
    again = client.post("/subscribe", {"email": "bob.other@example.org", "frequency": "daily"})
    held = client.post("/subscribe", {"email": "bob.other@example.org", "frequency": "daily"})
    assert len(smtp.received) == 3
    text = " ".join(held.content.decode().split())
    assert SAME_ANSWER not in text and SAME_ANSWER in again.content.decode()
    assert "No other message was sent now: to get a new one, ask again in 10 minutes." in text


def test_it_labels_every_field_of_the_forms_and_words_the_status_properly(
    smtp, client, bob, subscriber
):
    from lxml import html

    client.force_login(bob)
    client.post("/subscribe", {"email": "bob@example.org", "frequency": "weekly"})
    anonymous = subscriber("ada@example.org")
    pages = [
        client.get("/subscribe"),
        client.get(services.manage_url(anonymous).removeprefix("https://papers.example.org")),
    ]
    for response in pages:
        assert response.status_code == 200
        tree = html.fromstring(response.content)
        ids = set(tree.xpath("//@id"))
        for described in tree.xpath("//*[@aria-describedby]"):
            for target in described.get("aria-describedby").split():
                assert target in ids, (described.get("name"), target)
        assert not tree.xpath("//label[@for='']")
        for label in tree.xpath("//form//label[@for]"):
            assert label.get("for") in ids
        [group] = tree.xpath("//fieldset[.//input[@type='radio' and @name='frequency']]")
        assert group.xpath("string(legend)") == "Frequency"
    status = " ".join(html.fromstring(pages[0].content).xpath("string(//section/p[2])").split())
    assert status == (
        "Your digest goes to bob@example.org (confirmed; weekly: Mondays, the week before)."
    )
    assert "arXiv announcement" in pages[0].content.decode()


def test_the_weekly_digest_is_described_on_the_day_it_is_sent(smtp, client, bob, settings):
    settings.DIGEST_WEEKLY_DAY = 5  # Fridays
    client.force_login(bob)
    client.post("/subscribe", {"email": "bob@example.org", "frequency": "weekly"})
    page = " ".join(client.get("/subscribe").content.decode().split())
    assert "weekly: Fridays, the week before" in page
    assert "Weekly (Fridays, the week before)" in page and "Monday" not in page
