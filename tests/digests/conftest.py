"""A real SMTP server on loopback (aiosmtpd) with fault injection, and real papers."""

import datetime as dt
import email
import email.policy
import json
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.conftest import SAMPLE_DATA


class Received:
    def __init__(self, mail_from, rcpt_tos, content, mail_options=()):
        self.mail_from = mail_from
        self.rcpt_tos = rcpt_tos
        self.content = content
        self.mail_options = list(mail_options)
        self.message = email.message_from_bytes(content, policy=email.policy.default)

    @property
    def to(self):
        return self.rcpt_tos[0]

    def part(self, subtype):
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class FaultyInbox:
    """aiosmtpd handler that keeps what it accepts and misbehaves on request:

    - rcpt_replies[address] = ["451 ...", ...]: answers to RCPT TO, one per attempt
      (then 250); a plain string answers every attempt.
    - drop_on_mail = {n, ...}: close the connection when the n-th MAIL FROM arrives.
    - on_mail(count) / on_data(count): called on each MAIL FROM / accepted message (the
      kill-and-restart test kills the sender from there).
    """

    def __init__(self):
        self.received = []
        self.rcpt_replies = {}
        self.drop_on_mail = set()
        self.mail_count = 0
        self.on_mail = None
        self.on_data = None
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mail_count += 1
            count = self.mail_count
        if self.on_mail is not None:
            self.on_mail(count)
        if count in self.drop_on_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if isinstance(reply, list):
            reply = reply.pop(0) if reply else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            # original_content: the bytes as sent, also when the server decodes them.
            received = Received(
                envelope.mail_from,
                envelope.rcpt_tos,
                envelope.original_content,
                envelope.mail_options,
            )
            self.received.append(received)
            count = len(self.received)
        if self.on_data is not None:
            self.on_data(count)
        return "250 Message accepted for delivery"

    def to(self, address):
        return [message for message in self.received if address in message.rcpt_tos]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_7bit():
    """Ask for it with `smtp`: that server does not offer 8BITMIME."""


@pytest.fixture
def smtp(settings, request):
    """A running SMTP server; settings.MAILERS points at it. It offers 8BITMIME, unless
    the test also uses the fixture `smtp_7bit` (aiosmtpd with decode_data does not)."""
    inbox = FaultyInbox()
    port = free_port()
    seven_bit = "smtp_7bit" in request.fixturenames
    controller = Controller(inbox, hostname="127.0.0.1", port=port, decode_data=seven_bit)
    controller.start()
    inbox.port = port
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.DIGEST_RETRY_DELAY = 0.05
    settings.DIGEST_WORKERS = 1  # the in-memory test database is not shared between threads
    settings.DIGEST_TIME_ZONE = "UTC"
    settings.SITE_URL = "https://papers.example.org"
    settings.DEFAULT_FROM_EMAIL = "dailypapers <digest@papers.example.org>"
    # Queued tasks (search indexing on paper saves) are dropped; subscription tests that
    # need the confirmation mail task switch to the immediate backend.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def search_dir(fresh_search_dir):
    return fresh_search_dir


def hf_entries(day):
    return json.loads((SAMPLE_DATA / "hf-daily-papers" / f"{day}.json").read_text())


@pytest.fixture
def load_day(db):
    """Put the real papers of a Hugging Face daily file on that day's page."""
    from dailypapers.papers.models import Author, DailyEntry, Paper, PaperAuthor
    from dailypapers.papers.services import paper_feature

    def load(day, *, limit=None):
        papers = []
        for item in hf_entries(day)[:limit]:
            data = item["paper"]
            paper, created = Paper.objects.get_or_create(
                arxiv_id=data["id"],
                defaults={
                    "title": " ".join(data["title"].split()),
                    "abstract": data.get("summary", ""),
                    "authors": [{"name": a["name"]} for a in data.get("authors", [])],
                    "published_at": dt.datetime.fromisoformat(data["publishedAt"]),
                    "imported_upvotes": data.get("upvotes", 0),
                    "github_repo": data.get("githubRepo") or "",
                },
            )
            if created:
                for position, author in enumerate(paper.authors):
                    author_row, _ = Author.objects.get_or_create(name=author["name"])
                    PaperAuthor.objects.create(paper=paper, author=author_row, position=position)
            when = dt.datetime.fromisoformat(item["publishedAt"])
            paper_feature(
                paper=paper,
                day=dt.date.fromisoformat(day),
                source=DailyEntry.Source.IMPORT,
                when=when,
            )
            paper.refresh_from_db()
            papers.append(paper)
        return papers

    return load


@pytest.fixture
def subscriber(db):
    """A confirmed subscriber (frequency and follows as given)."""
    from dailypapers.digests.models import Follow, Subscription

    def make(address, *, frequency="daily", follows=(), **fields):
        fields.setdefault("status", Subscription.Status.ACTIVE)
        subscription = Subscription.objects.create(
            email=address, frequency=frequency, confirmed_at=timezone.now(), **fields
        )
        for kind, value in follows:
            Follow.objects.create(subscription=subscription, kind=kind, value=value)
        return subscription

    return make
