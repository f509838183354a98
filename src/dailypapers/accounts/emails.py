"""Every email about a member's account is built here, from templates under
web/templates/web/accounts/email/<name>/ (subject.txt, body.txt): confirming an address,
telling an address's owner that someone else gave it, telling the old address of a change.
(The password reset mail is Django's, with web/accounts/password_reset_*.txt.)"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

log = logging.getLogger(__name__)


def render_email(name, context):
    """(subject, text) of the email `name`."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    base = f"web/accounts/email/{name}/"
    subject = " ".join(render_to_string(base + "subject.txt", context).split())
    return subject, render_to_string(base + "body.txt", context)


def mail_send(name, *, to, context):
    """Send the email `name` to `to`; False when the mail server refused or was away (the
    member is told, and can ask again)."""
    subject, text = render_email(name, context)
    try:
        EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [to]).send()
    except (smtplib.SMTPException, OSError):
        log.warning("could not send the %s mail", name, exc_info=True)
        return False
    return True
