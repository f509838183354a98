"""Every email the digests app sends is built here, from templates under
templates/digests/email/<name>/ (subject.txt, body.txt, body.html).

Transactional mails (confirmation, "manage your subscription", test digests) go through
Django's EmailMultiAlternatives. Digests are sent by the thousand, so their MIME bytes are
assembled directly: each paper's text and HTML block is rendered once per period and shared
by every subscriber, and a digest is the concatenation of its blocks, encoded once.
"""

import binascii
import email.policy
import email.utils
import functools
import uuid
from dataclasses import dataclass
from email.header import Header
from email.parser import BytesParser

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import Truncator

AUTHORS_SHOWN = 6
ABSTRACT_CHARS = 700


def site_context():
    return {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL}


def render_email(name, context):
    """(subject, text, html) of the email `name`."""
    context = {**site_context(), **context}
    base = f"digests/email/{name}/"
    subject = " ".join(render_to_string(base + "subject.txt", context).split())
    text = render_to_string(base + "body.txt", context)
    html = render_to_string(base + "body.html", context)
    return subject, text, html


def build_email(name, *, to, context, headers=None):
    subject, text, html = render_email(name, context)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers or {}
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Digest composition -------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the trending section
    papers: list  # Paper instances


@dataclass
class ComposedDigest:
    to: str
    subject: str
    text: str
    html: str
    headers: dict
    raw: bytes  # the whole RFC 5322 message, CRLF line ends

    def as_django_message(self):
        return PreparedMessage(self)


class _RawMIME:
    """What an email backend sees of a PreparedMessage: its bytes, already serialised."""

    def __init__(self, raw):
        self.raw = raw

    def as_bytes(self, *args, **kwargs):
        return self.raw

    def as_string(self, *args, **kwargs):
        return self.raw.decode("ascii")

    def get_charset(self):
        return None

    def __getitem__(self, name):
        return self.parsed()[name]

    @functools.cache  # noqa: B019 (one short-lived object per message)
    def parsed(self):
        return BytesParser(policy=email.policy.default).parsebytes(self.raw)


class PreparedMessage(EmailMultiAlternatives):
    """An EmailMultiAlternatives whose MIME form was built by DigestComposer.

    SMTP and console backends send `raw` as it is; backends that read the fields instead
    (django-anymail's ESP backends) get the same subject, text, HTML and headers.
    """

    def __init__(self, composed):
        super().__init__(
            composed.subject,
            composed.text,
            settings.DEFAULT_FROM_EMAIL,
            [composed.to],
            headers=composed.headers,
        )
        self.attach_alternative(composed.html, "text/html")
        self.raw = composed.raw

    def message(self, *, policy=email.policy.default):
        return _RawMIME(self.raw)


def header_value(value):
    """A header value safe to put on the wire: no CR/LF, RFC 2047 when not ASCII."""
    value = str(value)
    if "\r" in value or "\n" in value:
        raise ValueError("header values cannot contain line breaks")
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76).encode()


def address_value(address):
    name, addr = email.utils.parseaddr(address)
    if "@" not in addr or "\r" in address or "\n" in address:
        raise ValueError(f"not a usable address: {address!r}")
    return email.utils.formataddr((name, addr), charset="utf-8")


def _qp(text):
    """Quoted-printable bytes of `text` with CRLF line ends (RFC 2045 §6.7)."""
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)


def mime_alternative(*, headers, text, html):
    """multipart/alternative bytes with a text and an HTML part, both quoted-printable."""
    boundary = f"=_{uuid.uuid4().hex}"
    lines = [f"{name}: {value}" for name, value in headers.items()]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"']
    part_head = (
        "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
    )
    return b"".join(
        [
            "\r\n".join(lines).encode("ascii"),
            f"\r\n\r\n--{boundary}\r\n{part_head.format('plain')}\r\n\r\n".encode(),
            _qp(text),
            f"\r\n--{boundary}\r\n{part_head.format('html')}\r\n\r\n".encode(),
            _qp(html),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


def paper_context(paper):
    abstract = " ".join(paper.abstract.split("\n\n")[0].split())
    names = paper.author_names
    authors = ", ".join(names[:AUTHORS_SHOWN]) + (" et al." if len(names) > AUTHORS_SHOWN else "")
    return {
        "paper": paper,
        "authors": authors,
        "abstract": Truncator(abstract).chars(ABSTRACT_CHARS),
        "url": settings.SITE_URL + paper.get_absolute_url(),
    }


class DigestComposer:
    """Builds the digests of one period. Shared parts are rendered once, in __init__ or
    the first time a paper or heading is needed; compose() only joins and encodes."""

    def __init__(self, *, period_label, kind):
        self.context = {**site_context(), "period_label": period_label, "kind": kind}
        self.from_header = address_value(settings.DEFAULT_FROM_EMAIL)
        self.head_text = render_to_string("digests/email/digest/head.txt", self.context)
        self.head_html = render_to_string("digests/email/digest/head.html", self.context)
        self._papers = {}
        self._headings = {}
        self.date_header = email.utils.format_datetime(timezone.now())

    def paper_parts(self, paper):
        if paper.pk not in self._papers:
            context = {**self.context, **paper_context(paper)}
            self._papers[paper.pk] = (
                render_to_string("digests/email/digest/paper.txt", context),
                render_to_string("digests/email/digest/paper.html", context),
            )
        return self._papers[paper.pk]

    def heading_parts(self, heading):
        if heading not in self._headings:
            context = {**self.context, "heading": heading}
            self._headings[heading] = (
                render_to_string("digests/email/digest/section.txt", context),
                render_to_string("digests/email/digest/section.html", context),
            )
        return self._headings[heading]

    def subject(self, sections):
        count = sum(len(section.papers) for section in sections)
        top = Truncator(sections[0].papers[0].title).chars(90)
        more = f" (+{count - 1} more)" if count > 1 else ""
        return f"{self.context['period_label']}: {' '.join(top.split())}{more}"

    def compose(self, *, to, sections, message_id, unsubscribe_url, manage_url, mailto=""):
        texts, htmls = [self.head_text], [self.head_html]
        for section in sections:
            if section.heading:
                text, html = self.heading_parts(section.heading)
                texts.append(text)
                htmls.append(html)
            for paper in section.papers:
                text, html = self.paper_parts(paper)
                texts.append(text)
                htmls.append(html)
        foot = {**self.context, "unsubscribe_url": unsubscribe_url, "manage_url": manage_url}
        texts.append(render_to_string("digests/email/digest/foot.txt", foot))
        htmls.append(render_to_string("digests/email/digest/foot.html", foot))
        html = "".join(htmls)
        text = "".join(texts)
        subject = self.subject(sections)
        unsubscribe = f"<{unsubscribe_url}>" + (f", <mailto:{mailto}>" if mailto else "")
        headers = {
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        wire_headers = {
            "From": self.from_header,
            "To": address_value(to),
            "Subject": header_value(subject),
            "Date": self.date_header,
            "Message-ID": message_id,
            **{name: header_value(value) for name, value in headers.items()},
            "List-Id": header_value(f"{settings.SITE_NAME} digest <digest.{self._domain()}>"),
            "Auto-Submitted": "auto-generated",
            "Precedence": "bulk",
        }
        raw = mime_alternative(headers=wire_headers, text=text, html=html)
        headers["Message-ID"] = message_id
        return ComposedDigest(
            to=to, subject=subject, text=text, html=html, headers=headers, raw=raw
        )

    @staticmethod
    def _domain():
        return site_domain()


def site_domain():
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "localhost"
