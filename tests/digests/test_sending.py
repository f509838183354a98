"""Digests sent to a real SMTP server on loopback, read back with the email package."""

import datetime as dt
import re

import pytest

from dailypapers.digests import sending
from dailypapers.digests.models import Delivery, SentPaper, Subscription
from dailypapers.digests.sending import (
    delivery_claim,
    digest_send,
    message_id_for,
    smtp_sendmail,
)
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import paper_feature

TUE = dt.date(2025, 12, 30)
MON = dt.date(2025, 12, 29)
SAT = dt.date(2025, 12, 6)


def test_it_sends_one_digest_per_confirmed_subscriber_with_the_headers_mail_providers_want(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_TRENDING_LIMIT = 5
    papers = load_day("2025-12-30")
    ada = subscriber("ada@example.org")
    subscriber("grace@example.org", frequency="weekly")  # not today
    Subscription.objects.create(email="pending@example.org")  # never confirmed
    subscriber("gone@example.org", status=Subscription.Status.UNSUBSCRIBED)

    report = digest_send(today=TUE)

    assert [m.to for m in smtp.received] == ["ada@example.org"]
    assert report.sent == 1
    message = smtp.received[0].message
    delivery = Delivery.objects.get(subscription=ada)
    assert delivery.status == Delivery.Status.SENT
    assert message["Message-ID"] == message_id_for(delivery) == delivery.message_id
    unsubscribe = message["List-Unsubscribe"]
    assert re.search(r"<https://papers\.example\.org/unsubscribe/[^>]+>", unsubscribe)
    assert "mailto:" not in unsubscribe  # no mailbox reads the sender's address
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text, html = smtp.received[0].part("plain"), smtp.received[0].part("html")
    top = max(papers, key=lambda paper: paper.trending_score)
    assert top.title in text and top.title in html
    assert text.count("arXiv: https://arxiv.org/abs/") == 5  # the trending cap
    assert 'style="' in html and "<img" not in html  # inline CSS, no remote images
    assert SentPaper.objects.filter(subscription=ada).count() == 5


def test_it_never_sends_a_paper_twice_and_stays_silent_when_nothing_is_new(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_TRENDING_LIMIT = 4
    monday = load_day("2025-12-29")
    ada = subscriber("ada@example.org")
    digest_send(today=MON)
    first = set(SentPaper.objects.filter(subscription=ada).values_list("paper_id", flat=True))
    assert len(first) == 4

    # Tuesday's page repeats Monday's top papers next to its own.
    for paper in monday:
        paper_feature(paper=paper, day=TUE, source=DailyEntry.Source.ADMIN)
    load_day("2025-12-30")
    digest_send(today=TUE)
    second = set(SentPaper.objects.filter(subscription=ada).values_list("paper_id", flat=True))
    assert len(smtp.to("ada@example.org")) == 2
    assert len(second - first) == 4 and first < second
    text = smtp.received[1].part("plain")
    assert all(paper.title not in text for paper in monday if paper.pk in first)

    # A day whose papers were all sent already: no mail at all.
    wednesday = TUE + dt.timedelta(days=1)
    for paper in monday:
        paper_feature(paper=paper, day=wednesday, source=DailyEntry.Source.ADMIN)
    settings.DIGEST_TRENDING_LIMIT = 100
    digest_send(today=wednesday)
    settings.DIGEST_TRENDING_LIMIT = 4
    thursday = wednesday + dt.timedelta(days=1)
    for paper in monday:
        paper_feature(paper=paper, day=thursday, source=DailyEntry.Source.ADMIN)
    digest_send(today=thursday)
    assert Delivery.objects.get(subscription=ada, period=thursday.isoformat()).status == "empty"
    assert len(smtp.to("ada@example.org")) == 3


def test_it_sends_nothing_on_a_day_without_papers(smtp, load_day, subscriber):
    load_day("2025-12-05")
    subscriber("ada@example.org")
    report = digest_send(today=SAT)
    assert smtp.received == [] and not Delivery.objects.exists()
    assert "No digest is due" in report.summary()


def test_it_sends_the_weekly_digest_on_monday_for_the_week_before(smtp, load_day, subscriber):
    load_day("2025-12-22", limit=3)
    load_day("2025-12-24", limit=3)
    subscriber("weekly@example.org", frequency="weekly")
    subscriber("daily@example.org")
    digest_send(today=MON)  # Monday 29 Dec: no papers of its own loaded
    assert [m.to for m in smtp.received] == ["weekly@example.org"]
    assert Delivery.objects.get().period == "2025-W52"
    assert "week of 22 Dec 2025" in smtp.received[0].message["Subject"]


def test_it_never_double_sends_when_run_again(smtp, load_day, subscriber):
    load_day("2025-12-30", limit=5)
    for n in range(3):
        subscriber(f"s{n}@example.org")
    digest_send(today=TUE)
    digest_send(today=TUE)
    assert sorted(m.to for m in smtp.received) == [f"s{n}@example.org" for n in range(3)]


@pytest.mark.django_db(transaction=True)  # as in production: each mark is its own transaction
def test_it_marks_each_digest_and_its_papers_in_one_transaction_of_its_own(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_TRENDING_LIMIT = 4
    load_day("2025-12-30", limit=5)
    ada = subscriber("ada@example.org", bounce_count=1)
    grace = subscriber("grace@example.org")

    assert digest_send(today=TUE).sent == 2

    for subscription in (ada, grace):
        delivery = Delivery.objects.get(subscription=subscription)
        assert delivery.status == Delivery.Status.SENT and delivery.num_papers == 4
        assert delivery.message_id == message_id_for(delivery) and delivery.sent_at
        sent = SentPaper.objects.filter(subscription=subscription)
        assert sorted(sent.values_list("delivery_id", flat=True)) == [delivery.pk] * 4
    ada.refresh_from_db()
    assert ada.bounce_count == 0  # the server took it: the count starts again
    assert digest_send(today=TUE).sent == 0 and len(smtp.received) == 2


def test_it_lets_only_one_worker_claim_a_delivery(db, subscriber):
    delivery = Delivery.objects.create(subscription=subscriber("a@example.org"), period="x")
    assert delivery_claim(delivery_id=delivery.pk, worker="one")
    assert not delivery_claim(delivery_id=delivery.pk, worker="two")
    assert Delivery.objects.get().claimed_by == "one"


def test_it_retries_transient_failures_until_every_digest_is_out(smtp, load_day, subscriber):
    load_day("2025-12-30", limit=5)
    addresses = [f"s{n}@example.org" for n in range(6)]
    for address in addresses:
        subscriber(address)
    smtp.rcpt_replies["s1@example.org"] = ["451 4.3.0 try again later", "421 4.7.0 busy"]
    smtp.rcpt_replies["s4@example.org"] = ["452 4.2.2 mailbox full"]
    smtp.drop_on_mail = {3}  # the connection drops in the middle of the run

    report = digest_send(today=TUE)

    assert sorted(m.to for m in smtp.received) == addresses
    assert report.sent == 6 and report.retried == 4
    s1 = Delivery.objects.get(subscription__email="s1@example.org")
    assert s1.attempts == 3 and s1.status == "sent"


def test_it_marks_a_550_address_bouncing_and_stops_mailing_it(smtp, load_day, subscriber, settings):
    settings.DIGEST_BOUNCE_LIMIT = 2
    load_day("2025-12-29", limit=5)
    load_day("2025-12-30", limit=5)
    for address in ("a@example.org", "gone@example.org", "c@example.org"):
        subscriber(address)
    smtp.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"

    digest_send(today=MON)
    gone = Subscription.objects.get(email="gone@example.org")
    assert gone.status == "active" and gone.bounce_count == 1
    digest_send(today=TUE)
    gone.refresh_from_db()
    assert gone.status == "bouncing" and "550" in gone.last_error
    assert Delivery.objects.filter(subscription=gone, status="bounced").count() == 2

    wednesday = TUE + dt.timedelta(days=1)
    load_day("2025-12-31")
    paper_feature_day = dt.date(2025, 12, 31)
    DailyEntry.objects.filter(day=paper_feature_day).update(day=wednesday)
    digest_send(today=wednesday)
    assert smtp.to("gone@example.org") == []
    assert not Delivery.objects.filter(subscription=gone, period=wednesday.isoformat()).exists()
    assert len(smtp.to("a@example.org")) == 3


def test_it_gives_up_after_the_last_attempt(smtp, load_day, subscriber, settings):
    settings.DIGEST_MAX_ATTEMPTS = 3
    load_day("2025-12-30", limit=3)
    subscriber("busy@example.org")
    smtp.rcpt_replies["busy@example.org"] = "451 4.3.0 try again later"
    report = digest_send(today=TUE)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, report.failed) == ("failed", 3, 1)
    assert "451" in delivery.error


def test_it_stops_without_burning_attempts_when_the_server_is_down(
    smtp, load_day, subscriber, settings
):
    load_day("2025-12-30", limit=3)
    subscriber("a@example.org")
    settings.MAILERS["default"]["OPTIONS"]["port"] = 1  # nothing listens there
    report = digest_send(today=TUE)
    assert "cannot connect" in report.aborted
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


@pytest.fixture
def preparers(monkeypatch):
    """How many preparing threads ran (composing ahead of the sending thread)."""
    started = []
    prepare_into = sending.PeriodSender.prepare_into

    def counted(self, *args):
        started.append(self.worker)
        return prepare_into(self, *args)

    monkeypatch.setattr(sending.PeriodSender, "prepare_into", counted)
    return started


@pytest.mark.django_db(transaction=True)  # committed rows: a preparing thread can see them
def test_it_composes_ahead_in_a_thread_and_still_retries_and_marks_each_digest(
    smtp, load_day, subscriber, preparers
):
    load_day("2025-12-30", limit=5)
    addresses = [f"s{n}@example.org" for n in range(6)]
    for address in addresses:
        subscriber(address)
    smtp.rcpt_replies["s1@example.org"] = ["451 4.3.0 try again later", "421 4.7.0 busy"]
    smtp.drop_on_mail = {3}

    report = digest_send(today=TUE, workers=1)

    # An in-memory SQLite database is private to its connection: no thread there.
    assert len(preparers) == (1 if sending._can_prepare_ahead() else 0)
    assert sorted(m.to for m in smtp.received) == addresses
    assert report.sent == 6 and report.retried == 3
    for delivery in Delivery.objects.all():
        assert delivery.status == "sent"
        assert SentPaper.objects.filter(delivery=delivery).count() == delivery.num_papers > 0
    assert Delivery.objects.get(subscription__email="s1@example.org").attempts == 3


@pytest.mark.django_db(transaction=True)
def test_it_gives_back_the_digests_composed_ahead_when_the_server_is_down(
    smtp, load_day, subscriber, settings, preparers
):
    load_day("2025-12-30", limit=3)
    for n in range(4):
        subscriber(f"s{n}@example.org")
    settings.MAILERS["default"]["OPTIONS"]["port"] = 1  # nothing listens there
    report = digest_send(today=TUE, workers=1)
    assert "cannot connect" in report.aborted
    assert len(preparers) == (1 if sending._can_prepare_ahead() else 0)
    rows = Delivery.objects.values_list("status", "attempts", "claimed_by")
    assert sorted(status for status, _, _ in rows) == ["pending"] * 4
    assert [attempts for _, attempts, _ in rows] == [0] * 4


def test_it_skips_a_subscriber_who_unsubscribed_after_planning(smtp, load_day, subscriber):
    from dailypapers.digests.content import daily_period
    from dailypapers.digests.sending import deliveries_plan

    load_day("2025-12-30", limit=3)
    quitter = subscriber("quit@example.org")
    deliveries_plan(daily_period(TUE))
    Subscription.objects.filter(pk=quitter.pk).update(status="unsubscribed")
    digest_send(today=TUE)
    assert smtp.received == []
    assert Delivery.objects.get().status == "skipped"


def test_it_adds_new_papers_for_followed_authors_and_categories(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_TRENDING_LIMIT = 2
    papers = load_day("2025-12-30")
    ranked = sorted(papers, key=lambda paper: -paper.trending_score)
    by_author, in_category = ranked[-1], ranked[-2]
    in_category.categories = ["cs.RO", "cs.CV"]
    in_category.save()
    author = by_author.authors[0]["name"]
    subscriber("fan@example.org", follows=[("author", author), ("category", "cs.RO")])
    subscriber("plain@example.org")
    digest_send(today=TUE)
    fan = smtp.to("fan@example.org")[0].part("plain")
    plain = smtp.to("plain@example.org")[0].part("plain")
    assert f"For your topics: author {author}" in fan and by_author.title in fan
    assert "For your topics: category cs.RO" in fan and in_category.title in fan
    assert by_author.title not in plain and "For your topics" not in plain
    assert fan.index(ranked[0].title) < fan.index("For your topics")


def test_an_author_section_shows_the_followed_author_in_a_cut_byline(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_TRENDING_LIMIT = 1
    paper = sorted(load_day("2025-12-30"), key=lambda paper: -paper.trending_score)[-1]
    paper.authors = [{"name": f"Author {i}"} for i in range(9)] + [{"name": "Ada Lovelace"}]
    paper.save()
    subscriber("fan@example.org", follows=[("author", "ada lovelace")])
    digest_send(today=TUE)
    mail = smtp.to("fan@example.org")[0]
    assert "Author 5, …, Ada Lovelace et al." in mail.part("plain")
    assert "Author 5, …, Ada Lovelace et al." in mail.part("html")


def test_it_counts_an_authors_merged_spellings_as_that_author(smtp, load_day, subscriber, settings):
    from dailypapers.papers.models import Author
    from dailypapers.people.models import AuthorMerge

    settings.DIGEST_TRENDING_LIMIT = 1
    ranked = sorted(load_day("2025-12-30"), key=lambda paper: -paper.trending_score)
    as_canonical, as_variant = ranked[-1], ranked[-2]
    name = as_canonical.authors[0]["name"]
    as_variant.authors = [{"name": "Q. Variant-Spelling"}]
    as_variant.save()
    canonical, _ = Author.objects.get_or_create(name=name)
    variant, _ = Author.objects.get_or_create(name="Q. Variant-Spelling")
    AuthorMerge.objects.create(variant=variant, canonical=canonical)
    subscriber("canonical@example.org", follows=[("author", name)])
    subscriber("variant@example.org", follows=[("author", "q. variant-spelling")])
    digest_send(today=TUE)
    for address in ("canonical@example.org", "variant@example.org"):
        text = smtp.to(address)[0].part("plain")
        assert as_canonical.title in text and as_variant.title in text, address


def test_it_dry_runs_without_sending_or_recording(smtp, load_day, subscriber, monkeypatch):
    from dailypapers.digests import sending

    monkeypatch.setattr(sending, "DRY_RUN_BATCH", 2)  # subscribers in batches, as the send
    load_day("2025-12-30", limit=3)
    for name in "abcde":
        subscriber(f"{name}@example.org")
    report = digest_send(today=TUE, dry_run=True)
    assert report.would_send == 5
    assert smtp.received == [] and not Delivery.objects.exists()


@pytest.mark.parametrize("bad", ["a@example.org\r\nBcc: victim@example.org", "x" * 300])
def test_it_bounces_a_stored_address_that_cannot_go_on_the_wire(smtp, load_day, subscriber, bad):
    load_day("2025-12-30", limit=2)
    subscriber(bad[:254])
    subscriber("ok@example.org")
    digest_send(today=TUE)
    assert [m.to for m in smtp.received] == ["ok@example.org"]
    assert all("victim" not in m.content.decode() for m in smtp.received)


def test_it_alerts_on_a_followed_topic_through_search(smtp, load_day, subscriber, settings):
    from dailypapers.search import index_papers, search_papers

    settings.DIGEST_TRENDING_LIMIT = 1
    papers = load_day("2025-12-30")
    load_day("2025-12-29")  # older papers: not new on Tuesday unless featured again
    index_papers([paper.pk for paper in papers])
    moe = next(paper for paper in papers if "Mixture-of-Experts" in paper.title)
    filed = [moe.pk, *(p.pk for p in papers[-2:] if p != moe)]
    Paper.objects.filter(pk__in=filed).update(categories=["cs.CL"], primary_category="cs.CL")
    follows = [("category", "cs.CL"), ("topic", "mixture of experts router")]
    subscriber("moe@example.org", follows=follows)
    digest_send(today=TUE)
    text = smtp.to("moe@example.org")[0].part("plain")
    topics = text[text.index("For your topics: mixture of experts router") :]
    # under the topic, which says more than the whole category that also matches it
    topics = topics[: topics.index("For your topics: category cs.CL")]
    assert moe.title in topics
    monday_titles = [e.paper.title for e in DailyEntry.objects.filter(day=MON)]
    assert not any(title in topics for title in monday_titles if title not in text[:200])
    # Only papers that hold every word: the day's other papers share a word, or a meaning,
    # and a search page would list them after the match.
    listed = [paper for paper in papers if paper.title in topics]
    assert listed == [moe]
    assert len(search_papers("mixture of experts router", limit=5).papers) > 1


def test_it_runs_from_the_command_line_with_a_clear_message_for_a_bad_date(
    smtp, load_day, subscriber, capsys
):
    from django.core.management import CommandError, call_command

    load_day("2025-12-30", limit=2)
    subscriber("a@example.org")
    with pytest.raises(CommandError, match="argument --date: '30/12/2025' is not a date like"):
        call_command("digest", "send", "--date", "30/12/2025")
    call_command("digest", "send", "--date", "2025-12-30", "--dry-run", "--no-progress")
    assert "would_send 1" in capsys.readouterr().out and smtp.received == []
    call_command("digest", "send", "--date", "2025-12-30", "--no-progress")
    assert "sent 1" in capsys.readouterr().out and len(smtp.received) == 1
    call_command("digest", "send", "--date", "2026-12-04", "--no-progress")  # no page
    assert "`dailypapers digest send --date 2025-12-30` sends its digest" in (
        capsys.readouterr().out
    )


def test_it_finishes_yesterdays_retries_in_todays_run(smtp, load_day, subscriber, settings):
    settings.DIGEST_RETRY_DELAY = 3600  # too far to wait for within the run
    load_day("2025-12-29", limit=2)
    load_day("2025-12-30", limit=2)
    subscriber("slow@example.org")
    smtp.rcpt_replies["slow@example.org"] = ["451 4.3.0 try again later"]
    digest_send(today=MON)
    assert smtp.received == []
    Delivery.objects.update(next_attempt_at=None)  # the hour has passed
    report = digest_send(today=TUE)
    assert report.periods == ["2025-12-30", "2025-12-29"]
    assert sorted(m.message["Message-ID"].split(".")[1] for m in smtp.received) == [
        "2025-12-29",
        "2025-12-30",
    ]


def test_it_dot_stuffs_lines_that_start_with_a_period(smtp):
    import smtplib

    body = b"Subject: dots\r\n\r\n.first\r\nmiddle\r\n.\r\n..two\r\nend"
    plain = b"Subject: plain\r\n\r\nno dots here\r\n"
    with smtplib.SMTP("127.0.0.1", smtp.port) as connection:
        smtp_sendmail(connection, "a@example.org", "b@example.org", body)
        smtp_sendmail(connection, "a@example.org", "c@example.org", plain)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.rcpt_replies["d@example.org"] = "550 no such user"
            smtp_sendmail(connection, "a@example.org", "d@example.org", plain)
    first, second = smtp.received
    assert first.content.replace(b"\r\n", b"\n") == (body + b"\r\n").replace(b"\r\n", b"\n")
    assert second.to == "c@example.org" and b"no dots here" in second.content


def _transfer_encodings(received):
    return [part["Content-Transfer-Encoding"] for part in received.message.iter_parts()]


def test_it_sends_8bit_parts_to_a_server_that_offers_8bitmime(smtp, load_day, subscriber):
    load_day("2025-12-30")
    subscriber("ada@example.org")
    digest_send(today=TUE)
    (received,) = smtp.received
    assert "BODY=8BITMIME" in received.mail_options
    assert _transfer_encodings(received) == ["8bit", "8bit"]
    lines = received.content.split(b"\r\n")
    assert max(map(len, lines)) <= 998 and b"\n" not in b"".join(lines)
    assert "arXiv: https://arxiv.org/abs/" in received.part("plain")
    assert not received.message.defects


def test_it_falls_back_to_quoted_printable_without_8bitmime(smtp, smtp_7bit, load_day, subscriber):
    load_day("2025-12-30")
    subscriber("ada@example.org")
    digest_send(today=TUE)
    (received,) = smtp.received
    assert not any(option.startswith("BODY=") for option in received.mail_options)
    assert _transfer_encodings(received) == ["quoted-printable", "quoted-printable"]
    assert received.content.isascii()
    body = received.content.split(b"\r\n\r\n", 1)[1]
    assert max(map(len, body.split(b"\r\n"))) <= 76  # quoted-printable lines
    assert "arXiv: https://arxiv.org/abs/" in received.part("plain")


def test_it_adds_new_papers_of_followed_organisations(smtp, load_day, subscriber, settings):
    from dailypapers.papers.models import Organization

    settings.DIGEST_TRENDING_LIMIT = 1
    papers = sorted(load_day("2025-12-30"), key=lambda paper: -paper.trending_score)
    lab = Organization.objects.create(name="inclusionAI", fullname="inclusion AI")
    theirs = papers[-1]
    theirs.organization = lab
    theirs.save()
    subscriber("fan@example.org", follows=[("org", "inclusionAI")])
    digest_send(today=TUE)
    fan = smtp.to("fan@example.org")[0].part("plain")
    assert "For your topics: organisation inclusionAI" in fan and theirs.title in fan
    assert papers[-2].title not in fan


@pytest.mark.django_db(transaction=True)
def test_a_mark_refused_by_postgresql_stops_the_sender_before_the_next_mail_is_taken(
    smtp, load_day, subscriber, monkeypatch
):
    """On PostgreSQL a mark's answer is read while the next mail is under way (MarkAhead):
    a mark that fails must still stop the sender before that next mail's body ends."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        pytest.skip("the mark read ahead is PostgreSQL's (DATABASE_URL=postgres://...)")
    load_day("2025-12-30", limit=3)
    for n in range(4):
        subscriber(f"s{n}@example.org")
    # A statement that takes the mark's parameters and fails when it runs (its own name:
    # prepared statements outlive the test on this connection).
    monkeypatch.setattr(sending.MarkAhead, "NAME", b"dailypapers_test_broken_mark")
    monkeypatch.setattr(
        sending.MarkAhead,
        "SQL",
        "UPDATE {deliveries} SET num_papers = 1 / 0 WHERE id = $5"
        " AND ($1::text || $2::text || $3::text || $4::text || $6::text) IS NOT NULL",
    )
    with pytest.raises(DatabaseError, match="division by zero"):
        digest_send(today=TUE, workers=1)
    assert len(smtp.received) == 1  # the second mail was cut off before its end
    rows = Delivery.objects.values_list("status", "attempts")
    assert sorted(rows) == [("pending", 0)] * 4  # given back: the first goes out again


def test_each_batch_of_due_deliveries_is_an_index_walk_that_never_sorts(db):
    """The statistics are taken while the table is empty, as on a fresh install's first
    day or before a new period's plan: unless the plan refreshes them, PostgreSQL read and
    sorted every due row for each batch of 50 (15 ms a batch at 100,000 rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dailypapers.digests.content import daily_period

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    Subscription.objects.bulk_create(
        Subscription(
            email=f"r{n}@example.org",
            frequency="daily",
            status=Subscription.Status.ACTIVE,
            confirmed_at=timezone.now(),
        )
        for n in range(2 * sending.ANALYZE_AFTER_PLANNING)
    )
    period = daily_period(TUE)
    assert sending.deliveries_plan(period) == 2 * sending.ANALYZE_AFTER_PLANNING
    queue = sending.DueQueue(period)
    with CaptureQueriesContext(connection) as reads:
        assert len(queue.take(timezone.now())) == sending.CLAIM_BATCH
    # The pending read, then the stale claims' (which may sort: only claimed rows, a few
    # batches at most).
    pending, _ = reads.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {pending['sql']}")
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_mail_updates_only_the_indexes_that_reads_use(db):
    """Each sent paper is a row in the (subscription, paper) unique index and the delivery
    index. An index by paper alone put a digest's dozen rows on a dozen different pages,
    each written again at every mark (half the mark's CPU on SQLite, bench/digest.py), and
    one by subscription alone repeated the unique indexes' first column."""
    from django.db import connection

    def indexed_columns(model):
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
        return sorted(
            {
                tuple(c["columns"])
                for c in found.values()
                if (c["index"] or c["unique"]) and not c["primary_key"]
            }
        )

    assert indexed_columns(SentPaper) == [("delivery_id",), ("subscription_id", "paper_id")]
    assert indexed_columns(Delivery) == [("period", "status"), ("subscription_id", "period")]


def test_deleting_a_paper_forgets_that_it_was_sent(smtp, load_day, subscriber, settings):
    settings.DIGEST_TRENDING_LIMIT = 3
    papers = load_day("2025-12-30")
    ada = subscriber("ada@example.org")
    digest_send(today=TUE)
    sent = SentPaper.objects.filter(subscription=ada)
    paper = next(p for p in papers if p.pk == sent.first().paper_id)

    paper.delete()

    assert sent.count() == 2
    assert not sent.filter(paper_id=paper.pk).exists()


def test_it_orders_the_followed_topics_alphabetically_whatever_their_case(
    smtp, load_day, subscriber, settings
):
    from dailypapers.search import index_papers

    settings.DIGEST_TRENDING_LIMIT = 1
    papers = load_day("2025-12-30")
    index_papers([paper.pk for paper in papers])
    topics = ["Rubric rewards", "agentic video research"]  # "R" sorts before "a" in ASCII
    subscriber("topics@example.org", follows=[("topic", topic) for topic in topics])
    digest_send(today=TUE)
    text = smtp.to("topics@example.org")[0].part("plain")
    found = [text.find(f"For your topics: {topic}") for topic in topics]
    assert -1 not in found, text
    assert found[1] < found[0]  # "agentic ..." then "Rubric ..."


def test_it_offers_a_mailto_unsubscribe_only_to_a_mailbox_configured_for_it(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_UNSUBSCRIBE_MAILTO = "unsubscribe@papers.example.org"
    load_day("2025-12-30")
    subscriber("ada@example.org")

    digest_send(today=TUE)

    [received] = smtp.received
    unsubscribe = received.message["List-Unsubscribe"]
    url, mailto = unsubscribe.split(", ")
    assert re.fullmatch(r"<https://papers\.example\.org/unsubscribe/[^>]+>", url)
    assert mailto == "<mailto:unsubscribe@papers.example.org>"


def test_a_topic_alert_shows_the_sentence_that_matched(smtp, load_day, subscriber, settings):
    # A paper under a topic whose title does not say it: the reader sees why it was sent
    # (and can tell a real match from "real-world ... models" under "world model").
    from dailypapers.search import index_papers

    settings.DIGEST_TRENDING_LIMIT = 1
    papers = load_day("2025-12-30")
    index_papers([paper.pk for paper in papers])
    subscriber("why@example.org", follows=[("topic", "router embedding")])
    digest_send(today=TUE)
    mail = smtp.to("why@example.org")[0]
    text = mail.part("plain")
    section = text[text.index("For your topics: router embedding") :]
    paper = section[section.index("Coupling Experts and Routers") :]
    sentence = "Our approach treats each expert's router embedding as a proxy token"
    assert f"Matched: “{sentence}" in paper[: paper.index("http")]
    html = mail.part("html")
    assert "Matched: “Our approach treats each expert&#x27;s router embedding" in html
    # The trending section says nothing of the kind.
    assert "Matched:" not in text[: text.index("For your topics")]
