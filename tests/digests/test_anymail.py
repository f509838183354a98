"""Digests through an email service's HTTP API (django-anymail) carry what the SMTP path
carries: subject, text, HTML and headers, and the VERP return path. Anymail's test backend
records the payload it would post to the service."""

import pytest
import time_machine
from django.core import mail

from dailypapers.digests import bounces
from dailypapers.digests.models import Delivery, SentPaper
from dailypapers.digests.sending import digest_send
from tests.digests.test_sending import TUE

pytest.importorskip("anymail")


def test_it_sends_the_same_digest_through_anymail_as_over_smtp(
    smtp, load_day, subscriber, settings
):
    settings.DIGEST_BOUNCE_ADDRESS = "bounces@papers.example.org"
    load_day("2025-12-30", limit=4)
    ada = subscriber("ada@example.org", follows=[("topic", "diffusion")])
    with time_machine.travel("2025-12-30 07:05Z", tick=False):  # the same signed links
        digest_send(today=TUE)
        [over_smtp] = smtp.received

        # The same digest again, this time through the ESP backend.
        Delivery.objects.update(status=Delivery.Status.PENDING)
        SentPaper.objects.all().delete()
        settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
        mail.outbox = []
        report = digest_send(today=TUE)

    assert report.sent == 1
    [message] = mail.outbox
    params = message.anymail_test_params
    smtp_message = over_smtp.message
    assert [str(address) for address in params["to"]] == ["ada@example.org"]
    assert str(params["from"]) == settings.DEFAULT_FROM_EMAIL
    assert params["subject"] == smtp_message["Subject"]
    # The same text; on the wire its lines end in CRLF, as SMTP requires.
    assert params["text_body"] == over_smtp.part("plain").replace("\r\n", "\n")
    assert params["html_body"] == over_smtp.part("html").replace("\r\n", "\n")
    headers = params["extra_headers"]
    for name in ("Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert headers[name] == smtp_message[name], name
    delivery = Delivery.objects.get(subscription=ada)
    assert params["envelope_sender"] == bounces.return_path(ada, delivery.pk)
    assert params["envelope_sender"] == over_smtp.mail_from
    assert delivery.status == Delivery.Status.SENT
