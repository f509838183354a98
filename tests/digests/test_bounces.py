"""Bounces and mailto unsubscribes: per-subscriber return paths (VERP) on the digests, and
real delivery status notifications from Postfix and Exim (tests/data/dsn, recorded, see
its README) fed to `mail receive` and to the LMTP endpoint of `mail serve`."""

import io
import os
import re
import smtplib
import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from django.core.management import call_command

from dailypapers.digests import bounces
from dailypapers.digests.management.commands.mail import Inbox
from dailypapers.digests.models import Delivery, Subscription
from dailypapers.digests.sending import digest_send
from tests.conftest import REPO
from tests.digests.conftest import free_port
from tests.digests.test_sending import TUE

DSN = REPO / "tests" / "data" / "dsn"
PLACEHOLDER = re.compile(rb"bounces\+b-\d+-\d+-0123456789abcdef@papers\.example\.org")


@pytest.fixture(autouse=True)
def bounce_address(settings):
    settings.DIGEST_BOUNCE_ADDRESS = "bounces@papers.example.org"
    settings.DIGEST_BOUNCE_LIMIT = 2


@pytest.fixture
def sent(subscriber):
    """A subscriber and a digest sent to them: (subscription, delivery)."""

    def make(address, period="2025-12-30"):
        subscription = Subscription.objects.filter(email=address).first() or subscriber(address)
        delivery = Delivery.objects.create(
            subscription=subscription, period=period, status=Delivery.Status.SENT
        )
        return subscription, delivery

    return make


def dsn(name, subscription, delivery):
    """A recorded report, returned to the return path of this digest."""
    return_path = bounces.return_path(subscription, delivery.pk)
    raw = PLACEHOLDER.sub(return_path.encode(), (DSN / name).read_bytes())
    return raw, return_path


def state(subscription):
    subscription.refresh_from_db()
    return subscription.status, subscription.bounce_count


def test_it_sends_each_digest_with_its_own_return_path_and_unsubscribe_address(
    smtp, load_day, subscriber
):
    load_day("2025-12-30", limit=3)
    ada = subscriber("ada@example.org")
    digest_send(today=TUE)

    received = smtp.received[0]
    delivery = Delivery.objects.get(subscription=ada)
    assert received.mail_from == bounces.return_path(ada, delivery.pk)
    assert re.fullmatch(r"bounces\+b-\d+-\d+-[0-9a-f]{16}@papers\.example\.org", received.mail_from)
    mailto = bounces.unsubscribe_address(ada)
    assert f"<mailto:{mailto}>" in received.message["List-Unsubscribe"]
    assert bounces.address_parse(received.mail_from) == ("b", ada, delivery.pk)


@pytest.mark.parametrize(
    "fixture", ["postfix-unknown-user.eml", "postfix-remote-550.eml", "exim-unrouteable.eml"]
)
def test_it_marks_a_hard_bounce_bouncing_at_once(sent, fixture):
    ada, delivery = sent("ada@example.org")
    raw, return_path = dsn(fixture, ada, delivery)

    assert bounces.mail_receive(raw, [return_path]) == ["hard bounce"]
    assert state(ada) == ("bouncing", 1)
    delivery.refresh_from_db()
    assert delivery.status == "bounced" and delivery.error.startswith("bounce 5.")


def test_it_counts_soft_bounces_up_to_the_limit_and_each_report_once(sent):
    ada, first = sent("ada@example.org")
    raw, return_path = dsn("postfix-mailbox-full.eml", ada, first)
    assert bounces.mail_receive(raw, [return_path]) == ["soft bounce"]
    assert bounces.mail_receive(raw, [return_path]) == ["duplicate"]  # the MTA sent it twice
    assert state(ada) == ("active", 1)
    assert "4.2.2" in ada.last_error and "Mailbox full" in ada.last_error

    _, second = sent("ada@example.org", period="2025-12-31")
    raw, return_path = dsn("postfix-mailbox-full.eml", ada, second)
    assert bounces.mail_receive(raw, [return_path]) == ["soft bounce"]
    assert state(ada) == ("bouncing", 2)


def test_it_ignores_a_delay_warning(sent):
    ada, delivery = sent("ada@example.org")
    raw, return_path = dsn("postfix-delayed.eml", ada, delivery)
    assert bounces.mail_receive(raw, [return_path]) == [
        "report without a failure (delayed): dropped"
    ]
    assert state(ada) == ("active", 0)


def test_it_unsubscribes_on_mail_to_the_list_unsubscribe_address(subscriber):
    ada = subscriber("ada@example.org")
    mail = b"From: ada@example.org\r\nTo: x\r\nSubject: unsubscribe\r\n\r\nplease\r\n"
    address = bounces.unsubscribe_address(ada)
    assert bounces.mail_receive(mail, [address]) == ["unsubscribed"]
    assert state(ada)[0] == "unsubscribed"
    assert bounces.mail_receive(mail, [address]) == ["already unsubscribed"]


def test_forged_malformed_and_stray_mail_changes_nothing(sent, subscriber):
    ada, delivery = sent("ada@example.org")
    bob, bobs = sent("bob@example.org")
    raw, return_path = dsn("postfix-unknown-user.eml", ada, delivery)
    forged_mac = re.sub(r"-[0-9a-f]{16}@", "-0123456789abcdef@", return_path)
    other_subscriber = return_path.replace(f"+b-{ada.pk}-", f"+b-{bob.pk}-")
    bobs_digest_on_adas_path = return_path.replace(f"-{delivery.pk}-", f"-{bobs.pk}-")
    not_a_report = b"From: someone@example.net\r\nSubject: hello\r\n\r\nJust saying hi.\r\n"
    broken_report = raw.replace(b"Status: 5.1.1", b"Status: permanently broken")
    garbage = bytes(range(256)) * 20

    cases = [
        (raw, [forged_mac]),
        (raw, [other_subscriber]),
        (raw, [bobs_digest_on_adas_path]),
        (raw, ["bounces@papers.example.org"]),
        (raw, []),
        (not_a_report, [return_path]),
        (broken_report, [return_path]),
        (garbage, [return_path]),
        (b"", [return_path]),
        (raw, [bounces.unsubscribe_address(ada).replace("+u-", "+b-")]),
    ]
    outcomes = [bounces.mail_receive(mail, recipients)[0] for mail, recipients in cases]

    assert all(outcome.endswith("dropped") for outcome in outcomes), outcomes
    assert state(ada) == ("active", 0) and state(bob) == ("active", 0)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

    # A token made for an earlier address dies when the address changes.
    Subscription.objects.filter(pk=ada.pk).update(email="ada@new.example.org")
    assert bounces.mail_receive(raw, [return_path])[0].endswith("dropped")
    assert state(ada) == ("active", 0)


def test_mail_receive_reads_stdin_and_finds_the_recipient_in_the_mtas_environment(
    sent, monkeypatch, capsys
):
    ada, delivery = sent("ada@example.org")
    raw, return_path = dsn("postfix-unknown-user.eml", ada, delivery)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    monkeypatch.setenv("RECIPIENT", "bounces@papers.example.org")  # after alias expansion
    monkeypatch.setenv("ORIGINAL_RECIPIENT", return_path)
    call_command("mail", "receive")
    assert capsys.readouterr().out.strip() == "hard bounce"
    assert state(ada) == ("bouncing", 1)


def test_mail_receive_falls_back_to_the_delivered_to_header(sent, monkeypatch, capsys):
    ada, delivery = sent("ada@example.org")
    raw, _ = dsn("exim-unrouteable.eml", ada, delivery)  # To: the return path
    for name in ("RECIPIENT", "ORIGINAL_RECIPIENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("mail", "receive")
    assert capsys.readouterr().out.strip() == "hard bounce"


@pytest.mark.django_db(transaction=True)  # the server thread reads what the test wrote
def test_the_lmtp_endpoint_takes_our_addresses_and_refuses_others(subscriber, settings):
    settings.DIGEST_BOUNCE_ADDRESS = "bounces@papers.example.org"
    ada = subscriber("ada@example.org")
    delivery = Delivery.objects.create(subscription=ada, period="2025-12-30", status="sent")
    raw, return_path = dsn("postfix-remote-550.eml", ada, delivery)
    port = free_port()

    class LmtpController(Controller):
        def factory(self):
            return LMTP(self.handler)

    controller = LmtpController(Inbox(lmtp=True), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            wire = raw.replace(b"\n", b"\r\n")  # SMTP line ends
            refused = lmtp.sendmail("", ["nobody@papers.example.org", return_path], wire)
    finally:
        controller.stop()
    assert list(refused) == ["nobody@papers.example.org"]
    assert state(ada) == ("bouncing", 1)


def test_a_bad_bounce_address_is_a_clear_message_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAILYPAPERS_", "DATABASE"))}
    env.update(DAILYPAPERS_DATA_DIR=str(tmp_path), DAILYPAPERS_BOUNCE_ADDRESS="bounces+x@y.org")
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "mail", "receive"],
        env=env,
        cwd=REPO,
        input=b"",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert b"DAILYPAPERS_BOUNCE_ADDRESS must be a plain address" in done.stderr
    assert b"Traceback" not in done.stderr
