"""Sending the digests of a day: plan, then for each Delivery claim → send → mark.

- plan: one Delivery row per (subscription, period), created in bulk; the unique
  constraint makes a second run, a second worker or a restart find the same rows.
- claim: a conditional UPDATE (pending and due, or claimed by a worker that has been
  silent for DIGEST_CLAIM_TIMEOUT) that only one worker can win.
- prepare: a thread per connection claims, loads and composes up to PREPARED_AHEAD mails
  ahead, so that composing overlaps the wait for the server's replies.
- send over one SMTP connection from MAILERS["default"], then mark sent and record the
  papers in the same transaction, so they are never sent to this subscriber again; the
  mark is done before the server can take the next mail (on PostgreSQL its answer is read
  while the next mail's first commands go out: MarkAhead).

A transient failure (4xx, dropped connection, timeout) puts the row back with a doubling
delay; a permanent one (5xx) marks it bounced and counts towards the subscription's
bounce limit. If the process dies between the server's "250 OK" and the mark, the row is
claimed again after the timeout and re-sent with the same Message-ID (so mail clients
that de-duplicate show it once): that window is the one place where at-least-once is the
best SMTP allows.
"""

import contextlib
import datetime as dt
import logging
import os
import queue
import smtplib
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field

from django import db
from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from dailypapers.notifications.selectors import notifications_for_digest
from dailypapers.notifications.services import notifications_mark_digested

from . import bounces, services
from .content import PeriodContent, digest_today, periods_due, periods_unfinished
from .emails import PLAIN_ADDRESS_RE, DigestComposer, site_domain
from .models import Delivery, Follow, SentPaper, Subscription

log = logging.getLogger(__name__)
CLAIM_BATCH = 50
# A plan that adds this many deliveries refreshes PostgreSQL's statistics of the table.
ANALYZE_AFTER_PLANNING = 1000
DRY_RUN_BATCH = 500
MAX_WAIT_IN_RUN = 120  # seconds; later retries are left to the next (hourly) run
FollowRow = namedtuple("FollowRow", "kind value")  # what composing needs of a Follow
# A delivery ready to send: composed is None for an empty digest; error says why it
# cannot be composed (a permanent failure).
Prepared = namedtuple("Prepared", "delivery composed papers notes error")
# Mails composed ahead of the sending thread: enough to cover a batch's claim and load,
# few enough that memory stays flat whatever the list's size.
PREPARED_AHEAD = 32
PREPARER_STOP_TIMEOUT = 60  # seconds: the preparer checks for a stop between queries
_DRAINED = object()  # in the prepared stream: nothing due now (see PeriodSender.prepared)
_DONE = object()

# SQLite has one writer at a time, and a connection that finds the write lock taken sleeps
# in its busy handler (1, 2, 5, 10 ms ...) however soon the lock frees. The senders of one
# process take turns on a lock of their own instead, and go the moment it is free.
_SQLITE_WRITER = threading.RLock()


def _writing():
    return _SQLITE_WRITER if connection.vendor == "sqlite" else contextlib.nullcontext()


# While it sends (and plans), a SQLite connection reads through a small page cache and no
# memory map: the settings' 64 MB cache and 2 GB map (for the site's pages) made the
# process grow with the list (bench/digest.py), and a bigger cache buys little here: in WAL
# mode a connection drops its cache whenever another one has committed, once per mail.
SEND_CACHE_KIB = 2048


@contextlib.contextmanager
def _streaming_reads():
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        saved = {}
        for pragma, value in (("mmap_size", 0), ("cache_size", -SEND_CACHE_KIB)):
            row = cursor.execute(f"PRAGMA {pragma}").fetchone()
            if row is not None:  # an in-memory database has no memory map
                saved[pragma] = row[0]
                cursor.execute(f"PRAGMA {pragma} = {value}")
    try:
        yield
    finally:
        if connection.connection is not None:  # a thread's connection may be closed
            with connection.cursor() as cursor:
                for pragma, value in saved.items():
                    cursor.execute(f"PRAGMA {pragma} = {int(value)}")


@contextlib.contextmanager
def _marks_without_waiting_for_disk():
    """On PostgreSQL, the sending connection's commits (claims, marks) return before the
    server has flushed them to its write-ahead log: a killed worker loses nothing (the
    server has the commit), only a crash of the database server itself can lose the last
    fraction of a second of marks, whose digests would then go out again."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        # A connection that broke mid-run is closed anyway: keep the run's own error.
        with contextlib.suppress(db.DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


# How long a thread may hold the GIL while another waits for it. A sending thread whose
# server has replied waits for its preparing thread to let go of the GIL: Python's 5 ms
# default, paid on each of the four replies of a mail, left the connection idle.
SEND_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def _short_gil_turns():
    saved = sys.getswitchinterval()
    sys.setswitchinterval(min(saved, SEND_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(saved)


def _can_prepare_ahead():
    """A preparing thread needs its own connection to see the same rows: not so inside a
    transaction (as in most tests) or with an in-memory SQLite database."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


class SmtpUnavailable(Exception):
    """The mail server cannot be reached or refuses us as a sender: stop the run, retry
    later, and count no attempt against any subscriber."""


@dataclass
class RunReport:
    periods: list = field(default_factory=list)
    sent: int = 0
    empty: int = 0
    skipped: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    would_send: int = 0  # --dry-run
    aborted: str = ""
    compose_seconds: float = 0.0
    send_seconds: float = 0.0
    worker_seconds: float = 0.0  # summed over the workers (threads)

    def add(self, other):
        for name in ("sent", "empty", "skipped", "retried", "bounced", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("compose_seconds", "send_seconds", "worker_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self):
        if not self.periods:
            return "No digest is due (no new papers for this day)."
        parts = [
            f"{name} {getattr(self, name)}"
            for name in ("sent", "empty", "skipped", "retried", "bounced", "failed", "would_send")
            if getattr(self, name)
        ]
        text = f"Digests for {', '.join(self.periods)}: " + (", ".join(parts) or "nothing to do")
        return text + (f". Stopped: {self.aborted}" if self.aborted else ".")


def classify_error(exc, recipient):
    """("transient" | "permanent", message) for an exception raised while sending."""
    code = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = exc.recipients.get(recipient, next(iter(exc.recipients.values())))
        message = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        error = exc.smtp_error
        message = f"{code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
    else:
        message = f"{exc.__class__.__name__}: {exc}"
    if isinstance(exc, ValueError):  # an address the backend cannot encode
        return "permanent", message
    if code is not None and 500 <= code < 600:
        return "permanent", message
    return "transient", message


def _smtp_abandon(smtp, code):
    # As smtplib: 421 means the server is closing; otherwise reset the transaction.
    if code == 421:
        smtp.close()
    else:
        smtp._rset()


def _angle(address):
    # smtplib quotes every address with email.utils.parseaddr: a plain one needs no parsing.
    return f"<{address}>" if PLAIN_ADDRESS_RE.fullmatch(address) else smtplib.quoteaddr(address)


def smtp_sendmail(smtp, envelope_from, to, raw, raw_8bit=None, before_body=None):
    """smtplib's sendmail for one recipient and prepared bytes, without its per-message
    regular expression over the whole message for dot-stuffing (half a millisecond per
    36 KB digest in bench/digest.py): bytes.find skips messages with no line to quote.

    `raw` and `raw_8bit` are bytes or callables that return them (a digest's wire forms
    are built on demand). `raw_8bit` (the same message with 8bit parts) is sent instead of
    `raw` when the server offers 8BITMIME (RFC 6152), declared with BODY=8BITMIME: about
    half the lines of quoted-printable, which the server takes markedly faster.

    `before_body` is called once the server is ready for the message and before it is
    sent: the server takes a message only when its body ends, so whatever must be done
    before the next mail is accepted can wait until then (PeriodSender's marks)."""
    smtp.ehlo_or_helo_if_needed()
    options = []
    if raw_8bit is not None and smtp.does_esmtp and smtp.has_extn("8bitmime"):
        raw = raw_8bit() if callable(raw_8bit) else raw_8bit
        if raw is not None:
            options.append("BODY=8BITMIME")
    if not options:
        raw = raw() if callable(raw) else raw
    if smtp.does_esmtp and smtp.has_extn("size"):
        options.append(f"size={len(raw)}")
    smtp.putcmd("mail", f"FROM:{_angle(envelope_from)}{''.join(' ' + o for o in options)}")
    code, reply = smtp.getreply()
    if code != 250:
        _smtp_abandon(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
    smtp.putcmd("rcpt", f"TO:{_angle(to)}")
    code, reply = smtp.getreply()
    if code not in (250, 251):
        _smtp_abandon(smtp, code)
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        _smtp_abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    if before_body is not None:
        try:
            before_body()
        except BaseException:
            smtp.close()  # a dropped connection in the middle of DATA: the server discards it
            raise
    if raw.startswith(b".") or b"\n." in raw:
        raw = smtplib._quote_periods(raw)
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    smtp.send(raw + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _smtp_abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


class Sender:
    """One SMTP connection (or whatever MAILERS["default"] is), reopened after a drop,
    and the configured send rate."""

    def __init__(self):
        self.backend = mailers.default
        self.interval = 1.0 / settings.DIGEST_SEND_RATE if settings.DIGEST_SEND_RATE > 0 else 0
        self.last = 0.0
        # With Django's SMTP backend, the prepared bytes go straight to its smtplib
        # connection: no EmailMessage to build and no addresses to re-parse per mail.
        self.smtp = isinstance(self.backend, SmtpBackend)
        self.envelope_from = (
            self.backend.prep_address(settings.DEFAULT_FROM_EMAIL) if self.smtp else ""
        )

    def send(self, composed, before_body=None):
        if self.interval:
            wait = self.last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last = time.monotonic()
        try:
            if hasattr(self.backend, "open"):
                self.backend.open()
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpUnavailable(f"the SMTP server refused our login: {exc}") from exc
        except OSError as exc:
            raise SmtpUnavailable(f"cannot connect to the SMTP server: {exc}") from exc
        try:
            if self.smtp and composed.to.isascii():
                smtp_sendmail(
                    self.backend.connection,
                    composed.envelope_from or self.envelope_from,
                    composed.to,
                    lambda: composed.raw,
                    lambda: composed.raw_8bit,
                    before_body,
                )
            else:  # other backends (console, anymail), or an address that needs encoding
                if before_body is not None:
                    before_body()
                self.backend.send_messages([composed.as_django_message()])
        except db.DatabaseError:  # a mark that failed before this mail's body (MarkAhead)
            self.close()
            raise
        except smtplib.SMTPSenderRefused as exc:
            self.close()
            raise SmtpUnavailable(f"the SMTP server refuses our sender address: {exc}") from exc
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # reconnect for the next message
            raise

    def close(self):
        try:
            self.backend.close()
        except Exception:  # closing a dead connection: nothing left to save
            if hasattr(self.backend, "connection"):
                self.backend.connection = None


def _process_id():
    return f"{socket.gethostname()[:30]}:{os.getpid()}:"


def _worker_id():
    return f"{_process_id()}{uuid.uuid4().hex[:8]}"


def deliveries_plan(period):
    """Create the missing Delivery rows of `period` for confirmed subscribers.

    One INSERT ... SELECT in the database: at 100,000 subscribers, building the rows in
    Python held every subscription id and a Delivery instance per subscriber at once."""
    delivery = connection.ops.quote_name(Delivery._meta.db_table)
    subscription = connection.ops.quote_name(Subscription._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {delivery} (subscription_id, period, status, attempts, claimed_by,"
            " message_id, num_papers, error, created_at)"
            f" SELECT id, %s, %s, 0, '', '', 0, '', %s FROM {subscription}"
            " WHERE status = %s AND frequency = %s AND email <> ''"
            " ON CONFLICT DO NOTHING",
            [
                period.key,
                Delivery.Status.PENDING.value,
                now,
                Subscription.Status.ACTIVE.value,
                period.kind,
            ],
        )
        planned = cursor.rowcount
        if connection.vendor == "postgresql" and planned >= ANALYZE_AFTER_PLANNING:
            # Until the statistics hold the new period's rows (a fresh install's first
            # day, a new period that autovacuum has not analysed yet), PostgreSQL reads
            # each batch of DueQueue by the (period, status) index and sorts every due
            # row by id: 15 ms a batch at 100,000 rows, against 0.05 ms once analysed.
            # (SQLite's indexes end with the rowid: its walk is in id order anyway.)
            cursor.execute(f"ANALYZE {delivery}")
        return planned


def _due_q(now):
    """Pending and due, or claimed by a worker that has been silent too long."""
    stale = now - dt.timedelta(seconds=settings.DIGEST_CLAIM_TIMEOUT)
    pending = Q(status=Delivery.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return pending | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)


def _due(period, now):
    return Delivery.objects.filter(_due_q(now), period=period.key)


def delivery_claim(*, delivery_id, worker, now=None):
    """True when this worker won the delivery (a conditional UPDATE: exactly one can)."""
    now = now or timezone.now()
    won = Delivery.objects.filter(_due_q(now), pk=delivery_id).update(
        status=Delivery.Status.SENDING,
        claimed_at=now,
        claimed_by=worker,
        attempts=F("attempts") + 1,
    )
    return won == 1


def deliveries_claim(*, ids, worker, kind, now=None):
    """Claim a batch of due deliveries in one UPDATE; returns (ids won, number skipped).

    Deliveries whose subscriber unsubscribed, bounced or changed frequency since the plan
    are marked skipped instead. A batch claimed by a worker that then dies is claimed
    again after DIGEST_CLAIM_TIMEOUT: nothing in it was sent, so nothing is lost.

    Plain SQL: building these statements with the ORM took more CPU than running them
    (bench/digest.py).
    """
    moment = now or timezone.now()
    now = connection.ops.adapt_datetimefield_value(moment)
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    subscriptions = connection.ops.quote_name(Subscription._meta.db_table)
    id_list = _int_list(ids)
    with connection.cursor() as cursor:
        # Who still receives mail. The subscription's conditions are read, not filtered
        # on: as a filter, SQLite scanned the subscriptions by their (status, frequency)
        # index instead of looking each one up by primary key.
        cursor.execute(
            "SELECT d.id, s.status = %s AND s.frequency = %s"
            f" FROM {deliveries} d, {subscriptions} s"
            f" WHERE d.id IN ({id_list}) AND s.id = d.subscription_id",
            [Subscription.Status.ACTIVE.value, kind],
        )
        receiving = [pk for pk, active in cursor.fetchall() if active]
    leaving = set(ids) - set(receiving)
    due, due_params = _due_sql(moment)
    with _writing(), transaction.atomic(), connection.cursor() as cursor:
        skipped = 0
        if leaving:
            cursor.execute(
                f"UPDATE {deliveries} SET status = %s WHERE id IN ({_int_list(leaving)}) AND {due}",
                [Delivery.Status.SKIPPED.value, *due_params],
            )
            skipped = cursor.rowcount
        if receiving:
            cursor.execute(
                f"UPDATE {deliveries} SET status = %s, claimed_at = %s, claimed_by = %s,"
                f" attempts = attempts + 1 WHERE id IN ({_int_list(receiving)}) AND {due}",
                [Delivery.Status.SENDING.value, now, worker, *due_params],
            )
    if not receiving:
        return set(), skipped
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {deliveries} WHERE id IN ({_int_list(receiving)})"
            " AND status = %s AND claimed_by = %s AND claimed_at = %s",
            [Delivery.Status.SENDING.value, worker, now],
        )
        return {pk for (pk,) in cursor.fetchall()}, skipped


def _due_sql(moment):
    """_due_q(moment) as a condition for plain SQL, and its parameters."""
    adapt = connection.ops.adapt_datetimefield_value
    stale = moment - dt.timedelta(seconds=settings.DIGEST_CLAIM_TIMEOUT)
    condition = (
        "((status = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s))"
        " OR (status = %s AND claimed_at < %s))"
    )
    params = [Delivery.Status.PENDING.value, adapt(moment), Delivery.Status.SENDING.value]
    return condition, [*params, adapt(stale)]


def delivery_mark_sent(*, delivery, message_id, papers, reset_bounces=True):
    # Plain SQL in one transaction: this runs once per mail, and building the ORM's UPDATE
    # was a visible share of the bookkeeping in bench/digest.py.
    table = connection.ops.quote_name(Delivery._meta.db_table)
    sent_at = connection.ops.adapt_datetimefield_value(timezone.now())
    if connection.vendor == "postgresql" and not reset_bounces:
        return _mark_sent_postgres(delivery, message_id, papers, sent_at)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        return _mark_sent_sqlite(delivery, message_id, papers, sent_at, reset_bounces)
    with _writing(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, message_id = %s,"
            " num_papers = %s, error = '' WHERE id = %s",
            [Delivery.Status.SENT.value, sent_at, message_id, len(papers), delivery.pk],
        )
        _sent_papers_insert(cursor, delivery, papers)
        if reset_bounces:
            Subscription.objects.filter(pk=delivery.subscription_id).update(bounce_count=0)


def _mark_sent_sqlite(delivery, message_id, papers, sent_at, reset_bounces):
    """The same transaction on the sqlite3 connection itself: Django's atomic() and cursor
    wrappers (savepoint bookkeeping, rewriting %s to ? per statement) cost more CPU per
    mail than SQLite's own work here (bench/digest.py)."""
    connection.ensure_connection()
    raw = connection.connection  # autocommit (isolation_level None): we BEGIN ourselves
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    sent_papers = connection.ops.quote_name(SentPaper._meta.db_table)
    with _writing():
        raw.execute("BEGIN IMMEDIATE")
        try:
            raw.execute(
                f"UPDATE {deliveries} SET status = ?, sent_at = ?, message_id = ?,"
                " num_papers = ?, error = '' WHERE id = ?",
                (Delivery.Status.SENT.value, sent_at, message_id, len(papers), delivery.pk),
            )
            raw.executemany(
                f"INSERT INTO {sent_papers} (subscription_id, paper_id, delivery_id)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(delivery.subscription_id, paper.id, delivery.pk) for paper in papers],
            )
            if reset_bounces:
                subscriptions = connection.ops.quote_name(Subscription._meta.db_table)
                raw.execute(
                    f"UPDATE {subscriptions} SET bounce_count = 0 WHERE id = ?",
                    (delivery.subscription_id,),
                )
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise


def _mark_sent_postgres(delivery, message_id, papers, sent_at):
    """The mark and the sent papers in one statement (atomic on its own): one round trip
    instead of BEGIN, UPDATE, INSERT and COMMIT, which were most of the bookkeeping on
    PostgreSQL in bench/digest.py."""
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    sent_papers = connection.ops.quote_name(SentPaper._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH marked AS (UPDATE {deliveries} SET status = %s,"
            " sent_at = %s, message_id = %s, num_papers = %s, error = '' WHERE id = %s"
            " RETURNING id, subscription_id)"
            f" INSERT INTO {sent_papers} (subscription_id, paper_id, delivery_id)"
            " SELECT marked.subscription_id, paper_id, marked.id"
            " FROM marked, unnest(%s::bigint[]) AS paper_id ON CONFLICT DO NOTHING",
            [
                Delivery.Status.SENT.value,
                sent_at,
                message_id,
                len(papers),
                delivery.pk,
                [paper.id for paper in papers],
            ],
        )


class MarkAhead:
    """PostgreSQL: a mail's mark sent to the server without waiting for its answer, which
    is read just before the next mail's body goes out (smtp_sendmail's `before_body`). The
    mark's round trip then overlaps the next mail's MAIL, RCPT and DATA commands instead of
    holding up the connection, and the rule stays: a mail is marked before the next one can
    be accepted (a server takes a message only when its body ends).

    The statement is prepared once per database connection and its parameters go as text,
    straight to libpq: psycopg's query conversion and Django's cursor wrappers were most of
    the mark's CPU (bench/digest.py)."""

    NAME = b"dailypapers_digest_mark"
    SQL = (
        "WITH marked AS (UPDATE {deliveries} SET status = $1, sent_at = $2, message_id = $3,"
        " num_papers = $4, error = '' WHERE id = $5 RETURNING id, subscription_id)"
        " INSERT INTO {sent_papers} (subscription_id, paper_id, delivery_id)"
        " SELECT marked.subscription_id, paper_id, marked.id"
        " FROM marked, unnest($6::bigint[]) AS paper_id ON CONFLICT DO NOTHING"
    )

    def __init__(self):
        self.prepared_on = None  # the libpq connection the statement is prepared on
        self.waiting = None  # the libpq connection whose answer is still to read

    def start(self, *, delivery, message_id, papers):
        from psycopg import generators, waiting

        self.finish()
        connection.ensure_connection()
        pgconn = connection.connection.pgconn
        params = [
            Delivery.Status.SENT.value.encode(),
            timezone.now().isoformat().encode(),
            message_id.encode(),
            str(len(papers)).encode(),
            str(int(delivery.pk)).encode(),
            ("{" + ",".join(str(int(paper.id)) for paper in papers) + "}").encode(),
        ]
        with connection.wrap_database_errors:
            if pgconn is not self.prepared_on:
                self.prepare(pgconn)
            pgconn.send_query_prepared(self.NAME, params)
            self.waiting = pgconn
            waiting.wait(generators.send(pgconn), pgconn.socket)

    def finish(self):
        """Wait for the answer of the mark in flight, if any; raises if it failed."""
        from psycopg import errors, generators, pq, waiting

        pgconn, self.waiting = self.waiting, None
        if pgconn is None:
            return
        with connection.wrap_database_errors:
            for result in waiting.wait(generators.fetch_many(pgconn), pgconn.socket):
                if result.status != pq.ExecStatus.COMMAND_OK:
                    raise errors.error_from_result(result)

    def prepare(self, pgconn):
        from psycopg import errors, pq

        sql = self.SQL.format(
            deliveries=connection.ops.quote_name(Delivery._meta.db_table),
            sent_papers=connection.ops.quote_name(SentPaper._meta.db_table),
        )
        result = pgconn.prepare(self.NAME, sql.encode())
        already = result.error_field(pq.DiagnosticField.SQLSTATE) == b"42P05"  # a reused session
        if result.status != pq.ExecStatus.COMMAND_OK and not already:
            raise errors.error_from_result(result)
        self.prepared_on = pgconn


def _sent_papers_insert(cursor, delivery, papers):
    # One executemany instead of bulk_create: building thousands of model instances per
    # second was a third of the bookkeeping time in bench/digest.py.
    table = connection.ops.quote_name(SentPaper._meta.db_table)
    cursor.executemany(
        f"INSERT INTO {table} (subscription_id, paper_id, delivery_id) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        [(delivery.subscription_id, paper.id, delivery.id) for paper in papers],
    )


def _sent_papers(subscription_ids, paper_ids):
    """(subscription id, paper id) of `paper_ids` already sent to `subscription_ids`.

    Plain SQL with the ids written in: the ORM prepared each of the period's hundreds of
    candidate ids once per batch, most of the CPU of loading a batch (bench/digest.py)."""
    if not subscription_ids or not paper_ids:
        return []
    table = connection.ops.quote_name(SentPaper._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT subscription_id, paper_id FROM {table}"
            f" WHERE subscription_id IN ({_int_list(subscription_ids)})"
            f" AND paper_id IN ({_int_list(paper_ids)})"
        )
        return cursor.fetchall()


def _int_list(ids):
    return ",".join(str(int(pk)) for pk in ids)  # int(): only numbers reach the SQL


def delivery_mark(*, delivery, status, error=""):
    with _writing():
        Delivery.objects.filter(pk=delivery.pk).update(status=status, error=error[:2000])


def delivery_retry_later(*, delivery, error, count_attempt=True):
    """Back to pending with a doubling delay; FAILED after DIGEST_MAX_ATTEMPTS."""
    attempts = delivery.attempts if count_attempt else max(delivery.attempts - 1, 0)
    if attempts >= settings.DIGEST_MAX_ATTEMPTS:
        delivery_mark(delivery=delivery, status=Delivery.Status.FAILED, error=error)
        return Delivery.Status.FAILED
    delay = settings.DIGEST_RETRY_DELAY * 2 ** max(attempts - 1, 0) if count_attempt else 0
    with _writing():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING,
            attempts=attempts,
            next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
            error=error[:2000],
        )
    return Delivery.Status.PENDING


def delivery_bounce(*, delivery, error):
    """A permanent refusal: this digest is lost for good, and after DIGEST_BOUNCE_LIMIT
    in a row the address gets no more mail."""
    with _writing(), transaction.atomic():
        delivery_mark(delivery=delivery, status=Delivery.Status.BOUNCED, error=error)
        Subscription.objects.filter(pk=delivery.subscription_id).update(
            bounce_count=F("bounce_count") + 1, last_error=error[:2000]
        )
        Subscription.objects.filter(
            pk=delivery.subscription_id, bounce_count__gte=settings.DIGEST_BOUNCE_LIMIT
        ).update(status=Subscription.Status.BOUNCING)


def message_id_for(delivery):
    # Deterministic: a re-send after a crash carries the same id.
    return f"<digest.{delivery.period}.{delivery.pk}@{site_domain()}>"


class DigestRun:
    """One run over the periods due on a day. Each period is planned once, then sent by
    `workers` PeriodSenders, each over its own SMTP connection, taking batches from one
    DueQueue. Other processes (more `db_worker`s) running the same period take their own
    batches: the claim decides who sends what."""

    def __init__(self, *, dry_run=False, progress=None, search=None, workers=None):
        self.dry_run = dry_run
        self.progress = progress  # callable(total) -> object with update(n) and close()
        self.search = search
        self.workers = workers or settings.DIGEST_WORKERS or _default_workers()
        self.report = RunReport()
        # A mailto nobody reads would swallow unsubscribes: none unless one is configured
        # (the one-click https URL is enough for RFC 8058); BOUNCE_ADDRESS gives each
        # subscriber their own, read by `dailypapers mail` (bounces.py).
        self.mailto = settings.DIGEST_UNSUBSCRIBE_MAILTO

    def run(self, *, today=None):
        today = today or digest_today()
        due = periods_due(today)
        # Earlier periods with retries left are finished, but get no new subscribers.
        unfinished = [p for p in periods_unfinished(today) if p not in due]
        try:
            for period in due + unfinished:
                self.report.periods.append(period.key)
                self.run_period(period, plan=period in due)
        except SmtpUnavailable as exc:
            self.report.aborted = str(exc)
            log.error("digest run stopped: %s", exc)
        return self.report

    def run_period(self, period, *, plan=True):
        content = PeriodContent(period, search=self.search)
        composer = DigestComposer(period_label=period.label, kind=period.kind)
        if self.dry_run:
            return self.dry_run_period(period, content, composer)
        if plan:
            with _streaming_reads():
                deliveries_plan(period)
        bar = self.progress(_due(period, timezone.now()).count()) if self.progress else None
        queue = DueQueue(period)
        senders = [
            PeriodSender(
                content=content, composer=composer, mailto=self.mailto, bar=bar, queue=queue
            )
            for _ in range(self.workers)
        ]
        try:
            with _short_gil_turns():
                if self.workers == 1:
                    senders[0].run()
                else:
                    threads = [threading.Thread(target=s.run_in_thread) for s in senders]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
        finally:
            if bar is not None:
                bar.close()
            for sender in senders:
                self.report.add(sender.report)
        for sender in senders:
            if sender.error is not None:
                raise sender.error

    def dry_run_period(self, period, content, composer):
        """Compose everything a real run would send now, send nothing, write nothing;
        subscribers in batches by primary key, as the real run."""
        done = Delivery.objects.filter(period=period.key).exclude(
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
        )
        subscriptions = (
            Subscription.objects.filter(status=Subscription.Status.ACTIVE, frequency=period.kind)
            .exclude(email="")
            .exclude(pk__in=done.values("subscription_id"))
            .prefetch_related("follows")
            .order_by("pk")
        )
        after = 0
        while batch := list(subscriptions.filter(pk__gt=after)[:DRY_RUN_BATCH]):
            after = batch[-1].pk
            for subscription in batch:
                for follow in subscription.follows.all():
                    content.matches(follow.kind, follow.value)
            sent = defaultdict(set)
            for sub_id, paper_id in SentPaper.objects.filter(
                subscription__in=batch, paper_id__in=content.candidate_ids()
            ).values_list("subscription_id", "paper_id"):
                sent[sub_id].add(paper_id)
            for subscription in batch:
                sections = content.sections_for(
                    subscription, subscription.follows.all(), sent[subscription.pk]
                )
                if sections:
                    self.report.would_send += 1
                else:
                    self.report.empty += 1


class DueQueue:
    """The due deliveries of one period, handed to this process's senders in batches of
    CLAIM_BATCH in primary-key order. Each read starts after the last id handed out, an
    index range scan: re-reading "the first due rows" each time sorted everything still
    due, which grew with the list (bench/digest.py at 100,000)."""

    def __init__(self, period):
        self.period = period
        self.after = 0
        self.lock = threading.Lock()

    def take(self, now):
        """The next batch of ids; at the end, starts over from the beginning once (for
        retries that came due and claims that went stale); [] when nothing is due."""
        with self.lock:
            ids = self._after(self.after, now)
            if not ids and self.after:
                ids = self._after(0, now)
            self.after = ids[-1] if ids else 0
            return ids

    def _after(self, pk, now):
        # Two reads, each a walk of the (period, status) index in id order that stops at
        # the batch's size: one read with both conditions made the database collect every
        # due row after `pk` and sort them, per batch (quadratic in the list).
        stale = now - dt.timedelta(seconds=settings.DIGEST_CLAIM_TIMEOUT)
        after = Delivery.objects.filter(period=self.period.key, pk__gt=pk).order_by("pk")
        pending = after.filter(status=Delivery.Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
        stale_claims = after.filter(status=Delivery.Status.SENDING, claimed_at__lt=stale)
        ids = [
            *pending.values_list("pk", flat=True)[:CLAIM_BATCH],
            *stale_claims.values_list("pk", flat=True)[:CLAIM_BATCH],
        ]
        return sorted(ids)[:CLAIM_BATCH]


class PeriodSender:
    """Sends due deliveries of one period over one SMTP connection: takes a batch of ids,
    claims it, then loads, composes, sends and marks each delivery it won."""

    def __init__(self, *, content, composer, mailto, queue, bar=None):
        self.content = content
        self.period = content.period
        self.composer = composer
        self.mailto = mailto
        self.queue = queue
        self.bar = bar
        self.worker = _worker_id()
        self.report = RunReport()
        self.error = None
        self.stop = threading.Event()  # the sending thread is done: the preparer stops
        self.drained = threading.Event()  # the sender has handled everything handed over
        self.mark_ahead = None  # a MarkAhead on PostgreSQL with a preparing thread

    def run_in_thread(self):
        try:
            self.run()
        except SmtpUnavailable as exc:
            self.error = exc
        finally:
            db.connection.close()  # each thread has its own database connection

    def run(self):
        sender = Sender()
        started = time.perf_counter()
        try:
            with _streaming_reads(), _marks_without_waiting_for_disk():
                if _can_prepare_ahead():
                    self.send_with_preparer(sender)
                else:
                    self.send_all(self.prepared(wire=sender.smtp), sender)
        except BaseException:
            self.claims_release()
            raise
        finally:
            sender.close()
            self.report.worker_seconds += time.perf_counter() - started

    def send_with_preparer(self, sender):
        """Claim, load and compose in a thread of their own, up to PREPARED_AHEAD mails
        ahead: while this thread waits for the server's replies (the socket wait releases
        the GIL), the next digests are being built, as the anchor of bench/digest.py has
        them ready. This thread still marks each mail before sending the next."""
        ahead = queue.Queue(maxsize=PREPARED_AHEAD)
        preparer = threading.Thread(target=self.prepare_into, args=(ahead, sender.smtp))
        preparer.start()
        if connection.vendor == "postgresql":
            self.mark_ahead = MarkAhead()
        try:
            self.send_all(self.taken_from(ahead, preparer), sender)
        finally:
            self.stop.set()
            preparer.join(timeout=PREPARER_STOP_TIMEOUT)
            if preparer.is_alive():
                log.warning("digest preparer still busy %ss after the stop", PREPARER_STOP_TIMEOUT)

    def prepare_into(self, ahead, wire):
        """The preparing thread: everything `prepared` yields goes into `ahead`, then
        _DONE, or the exception that stopped it."""
        try:
            with _streaming_reads(), _marks_without_waiting_for_disk():
                for item in self.prepared(wire=wire):
                    if item is _DRAINED:
                        self.drained.clear()
                    if not self.hand(ahead, item):
                        return
                    if item is _DRAINED and not self.wait_drained():
                        return
            self.hand(ahead, _DONE)
        except Exception as exc:
            self.hand(ahead, exc)
        finally:
            db.connection.close()  # the thread's own database connection

    def hand(self, ahead, item):
        """Put `item` in the bounded queue; False if the sender stopped meanwhile."""
        while not self.stop.is_set():
            try:
                ahead.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def wait_drained(self):
        while not self.stop.is_set():
            if self.drained.wait(0.5):
                return True
        return False

    def taken_from(self, ahead, preparer):
        """The prepared mails, as the preparing thread hands them over."""
        while True:
            try:
                item = ahead.get(timeout=1)
            except queue.Empty:
                if not preparer.is_alive():
                    raise RuntimeError("the digest preparer stopped without a word") from None
                continue
            if item is _DONE:
                return
            if item is _DRAINED:
                self.marks_finish()
                self.drained.set()  # everything prepared before it is sent and marked
            elif isinstance(item, Exception):
                raise item
            else:
                yield item

    def send_all(self, items, sender):
        heartbeat = time.monotonic()
        try:
            for item in items:
                if item is _DRAINED:
                    continue
                if time.monotonic() - heartbeat > settings.DIGEST_CLAIM_TIMEOUT / 4:
                    self.claims_refresh()  # a slow server is not a dead worker
                    heartbeat = time.monotonic()
                self.send_one(item, sender)
                if self.bar is not None:
                    self.bar.update(1)
        finally:
            self.marks_finish()  # the last mail's mark (on an error too: that mail went out)

    def marks_finish(self):
        """Before anything else uses this thread's database connection, or the next mail
        can be accepted: the mark still in flight (MarkAhead) is done."""
        if self.mark_ahead is not None:
            self.mark_ahead.finish()

    def prepared(self, *, wire):
        """Each due delivery claimed, loaded and composed (with its bytes for the wire if
        `wire`), batch after batch; _DRAINED when nothing is due, after which the
        consumer must have sent and marked everything before it: then retries that came
        due meanwhile are waited for, or the run ends."""
        while True:
            ids = self.queue.take(timezone.now())
            if ids:
                yield from self.prepare_batch(ids, wire)
                continue
            yield _DRAINED
            wait = self.next_retry_in(timezone.now())
            if wait is None:
                return
            if self.stop.wait(wait):
                return

    def next_retry_in(self, now):
        """Seconds until a delivery of this period comes due again (a retry, or a claim
        of a process that died going stale), if soon enough to wait for in this run;
        later ones are left to the next scheduled run."""
        period = Delivery.objects.filter(period=self.period.key)
        retry = (
            period.filter(status=Delivery.Status.PENDING, next_attempt_at__gt=now)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        # Claims of this process are alive (its other senders are still at work).
        claimed = (
            period.filter(status=Delivery.Status.SENDING)
            .exclude(claimed_by__startswith=_process_id())
            .order_by("claimed_at")
            .values_list("claimed_at", flat=True)
            .first()
        )
        if claimed is not None:
            claimed += dt.timedelta(seconds=settings.DIGEST_CLAIM_TIMEOUT)
        due = min((when for when in (retry, claimed) if when is not None), default=None)
        if due is None:
            return None
        seconds = (due - now).total_seconds()
        return max(seconds, 0.01) if seconds <= MAX_WAIT_IN_RUN else None

    def load(self, ids):
        """The deliveries `ids` with their subscriptions; each subscriber's follows; and the
        papers (among this period's candidates) each subscriber was already sent. Follows
        are plain rows: model instances were a visible share of the CPU per mail."""
        content = self.content
        deliveries = list(
            Delivery.objects.filter(pk__in=ids).select_related("subscription").order_by("pk")
        )
        subscription_ids = [delivery.subscription_id for delivery in deliveries]
        follows = defaultdict(list)
        rows = (
            Follow.objects.filter(subscription_id__in=subscription_ids)
            .order_by("kind", "value")
            .values_list("subscription_id", "kind", "value")
        )
        for subscription_id, kind, value in rows:
            follows[subscription_id].append(FollowRow(kind, value))
            content.matches(kind, value)  # compute shared matches before the lookup
        sent = defaultdict(set)
        for subscription_id, paper_id in _sent_papers(subscription_ids, content.candidate_ids()):
            sent[subscription_id].add(paper_id)
        return deliveries, follows, sent

    def prepare_batch(self, ids, wire):
        won, skipped = deliveries_claim(ids=ids, worker=self.worker, kind=self.period.kind)
        self.report.skipped += skipped
        if not won:
            return  # another process has them, or the subscribers left meanwhile
        deliveries, follows, sent = self.load(won)
        for delivery in deliveries:
            subscriber = delivery.subscription_id
            yield self.prepare(delivery, follows[subscriber], sent[subscriber], wire)

    def prepare(self, delivery, follows, already_sent, wire):
        started = time.perf_counter()
        try:
            composed, papers, notes = self.compose(delivery, follows, already_sent)
        except ValueError as exc:  # an address or header that cannot go on the wire
            return Prepared(delivery, None, (), (), f"cannot compose: {exc}")
        if composed is not None and wire and composed.to.isascii():
            # The bytes smtp_sendmail will send: the 8bit form, else the 7bit one.
            if composed.raw_8bit is None:
                composed.raw  # noqa: B018 (a cached property, computed here)
        self.report.compose_seconds += time.perf_counter() - started
        return Prepared(delivery, composed, papers, notes, "")

    def claims_release(self):
        """After an error that stops this sender: give back the deliveries it claimed but
        did not send, for other workers or the next run (not counted as attempts)."""
        with contextlib.suppress(db.DatabaseError), _writing():
            self.marks_finish()
            Delivery.objects.filter(
                period=self.period.key, status=Delivery.Status.SENDING, claimed_by=self.worker
            ).update(status=Delivery.Status.PENDING, attempts=F("attempts") - 1)

    def claims_refresh(self):
        self.marks_finish()
        with _writing():
            Delivery.objects.filter(
                period=self.period.key, status=Delivery.Status.SENDING, claimed_by=self.worker
            ).update(claimed_at=timezone.now())

    def compose(self, delivery, follows, already_sent):
        subscription = delivery.subscription
        sections = self.content.sections_for(subscription, follows, already_sent)
        if not sections:
            return None, [], []
        notes = []
        if subscription.user_id:
            notes = notifications_for_digest(user=subscription.user_id)
        token = services.manage_token(subscription)
        composed = self.composer.compose(
            to=subscription.email,
            sections=sections,
            message_id=message_id_for(delivery),
            unsubscribe_url=services.unsubscribe_url(subscription, token),
            manage_url=services.manage_url(subscription, token),
            mailto=bounces.unsubscribe_address(subscription) or self.mailto,
            envelope_from=bounces.return_path(subscription, delivery.pk),
            notifications=notes,
        )
        return composed, [paper for section in sections for paper in section.papers], notes

    def send_one(self, prepared, sender):
        delivery, composed, papers, notes, error = prepared
        subscription = delivery.subscription
        if error or composed is None:
            self.marks_finish()
        if error:
            delivery_bounce(delivery=delivery, error=error)
            self.report.bounced += 1
            return
        if composed is None:
            delivery_mark(delivery=delivery, status=Delivery.Status.EMPTY)
            self.report.empty += 1
            return
        started = time.perf_counter()
        try:
            sender.send(composed, before_body=self.marks_finish)
        except db.DatabaseError:
            raise  # the previous mail's mark failed: stop, as a failed mark does
        except SmtpUnavailable:
            self.marks_finish()
            delivery_retry_later(delivery=delivery, error="SMTP unavailable", count_attempt=False)
            raise
        except Exception as exc:
            self.marks_finish()
            kind, error = classify_error(exc, subscription.email)
            log.warning("digest %s to subscription %s: %s", delivery.period, subscription.pk, error)
            if kind == "permanent":
                delivery_bounce(delivery=delivery, error=error)
                self.report.bounced += 1
            elif delivery_retry_later(delivery=delivery, error=error) == Delivery.Status.FAILED:
                self.report.failed += 1
            else:
                self.report.retried += 1
            return
        finally:
            self.report.send_seconds += time.perf_counter() - started
        # With VERP, the server taking a digest says nothing about its delivery (a relay
        # takes everything): bounces come back by mail (bounces.py).
        reset_bounces = subscription.bounce_count > 0 and not settings.DIGEST_BOUNCE_ADDRESS
        message_id = composed.headers["Message-ID"]
        if self.mark_ahead is not None and not reset_bounces and not notes:
            self.mark_ahead.start(delivery=delivery, message_id=message_id, papers=papers)
            self.report.sent += 1
            return
        self.marks_finish()
        delivery_mark_sent(
            delivery=delivery, message_id=message_id, papers=papers, reset_bounces=reset_bounces
        )
        if notes:
            notifications_mark_digested(notifications=notes)
        self.report.sent += 1


def _default_workers():
    # Three SMTP connections: while one waits for the server's reply, the others prepare
    # and write their marks. On SQLite the writes still take turns (one writer), but the
    # waits overlap (bench/digest.py, 10,000 subscribers: 1 connection 122 mails/s, 2: 172,
    # 3: 260). Each connection has at most one accepted-but-unmarked mail. An in-memory
    # SQLite database is private to its connection, so it keeps one worker.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    return 3


def digest_plan(*, today=None):
    """Create the deliveries owed on `today`, so that other workers find them; returns
    how many were new."""
    return sum(deliveries_plan(period) for period in periods_due(today or digest_today()))


def digest_send(*, today=None, dry_run=False, progress=None, search=None, workers=None):
    """Send every digest due on `today` (default: today in DIGEST_TIME_ZONE)."""
    run = DigestRun(dry_run=dry_run, progress=progress, search=search, workers=workers)
    return run.run(today=today)
