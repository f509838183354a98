"""`dailypapers mail receive|serve`: take in bounces and unsubscribe mails (bounces.py).

- `receive` reads one message from standard input, for an MTA's pipe (Postfix's
  aliases or master.cf, Exim's pipe transport). It exits 0 whenever the message was dealt
  with, dropped included, so the MTA never bounces or retries junk; 75 (EX_TEMPFAIL) when
  the database cannot be reached, so the MTA keeps the message and tries again.
- `serve` listens as a small LMTP (default) or SMTP server (aiosmtpd): the MTA hands the
  bounce domain's mail to it. Recipients that are not ours get 550; a database failure
  gets 451 (the MTA retries).
"""

import asyncio
import logging
import os
import signal
import sys

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from dailypapers.arguments import a_port
from dailypapers.digests.bounces import address_parse, mail_receive, recipients_from

log = logging.getLogger(__name__)
MAX_MESSAGE = 10 * 1024 * 1024  # bytes; a bounce is a few KB, the rest is dropped
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Take in mail sent back to the digests' bounce address (DAILYPAPERS_BOUNCE_ADDRESS): "
        "bounces (RFC 3464 reports) mark subscriptions bouncing, mails to the List-Unsubscribe "
        "address unsubscribe; anything else is logged and dropped."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        receive = sub.add_parser("receive", help="read one message from standard input")
        receive.add_argument(
            "--recipient",
            action="append",
            help="the address it was delivered to (default: $ORIGINAL_RECIPIENT, $RECIPIENT, "
            "then the Delivered-To, X-Original-To and To headers)",
        )
        serve = sub.add_parser("serve", help="listen for mail (LMTP, or SMTP with --smtp)")
        serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
        serve.add_argument("--port", type=a_port, default=8025, help="default: 8025")
        serve.add_argument("--smtp", action="store_true", help="speak SMTP instead of LMTP")

    def handle(self, *args, **options):
        if options["action"] == "receive":
            return self.receive(options["recipient"])
        return self.serve(options["host"], options["port"], lmtp=not options["smtp"])

    def receive(self, recipients):
        raw = sys.stdin.buffer.read(MAX_MESSAGE + 1)
        if len(raw) > MAX_MESSAGE:
            log.warning("incoming mail over %d bytes: dropped", MAX_MESSAGE)
            self.stdout.write("too large: dropped")
            return
        recipients = recipients or recipients_from(raw, os.environ)
        try:
            outcomes = mail_receive(raw, recipients)
        except DatabaseError as exc:
            self.stderr.write(f"the database is unavailable, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write("\n".join(outcomes))

    def serve(self, host, port, *, lmtp):
        from aiosmtpd.lmtp import LMTP
        from aiosmtpd.smtp import SMTP

        server_class = LMTP if lmtp else SMTP
        handler = Inbox(lmtp=lmtp)

        async def main():
            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                lambda: server_class(handler, data_size_limit=MAX_MESSAGE), host, port
            )
            stop = asyncio.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            protocol = "LMTP" if lmtp else "SMTP"
            self.stdout.write(f"Taking in bounces by {protocol} on {host}:{port}", ending="\n")
            self.stdout.flush()
            await stop.wait()
            server.close()
            await server.wait_closed()

        try:
            asyncio.run(main())
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None


def _db(function):
    """Run ORM code from the server's event loop, on a fresh connection if the old one died."""

    def call(*args):
        close_old_connections()
        return function(*args)

    return sync_to_async(call)


class Inbox:
    """aiosmtpd handler: accepts mail for our addresses only, acts on it after DATA."""

    def __init__(self, *, lmtp):
        self.lmtp = lmtp

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            ours = await _db(address_parse)(address)
        except DatabaseError:
            return "451 4.3.0 database unavailable, try again later"
        if ours is None:
            return "550 5.1.1 no such address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        replies = []
        for recipient in envelope.rcpt_tos:
            try:
                await _db(mail_receive)(raw, [recipient])
                replies.append("250 2.0.0 OK")
            except DatabaseError:
                replies.append("451 4.3.0 database unavailable, try again later")
        if self.lmtp:  # one reply per recipient (RFC 2033)
            return "\r\n".join(replies)
        return replies[0] if len(set(replies)) == 1 else "451 4.3.0 try again later"
