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
import re
import uuid
from dataclasses import dataclass, field
from email.header import Header
from email.parser import BytesParser

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import Truncator

from dailypapers.papers.tex import tex_plain
from dailypapers.people.selectors import author_positions

AUTHORS_SHOWN = 6
ABSTRACT_CHARS = 500
MATCHED_CHARS = 300


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
    authors_sought: tuple = ()  # an author section's name: shown even in a cut byline
    matched: dict = field(default_factory=dict)  # a topic's {paper id: sentence that matched}


@dataclass
class ComposedDigest:
    """One subscriber's digest. Its wire forms are joined on first use: an SMTP server
    with 8BITMIME needs only `raw_8bit`, an email service's API only the text and HTML."""

    to: str
    subject: str
    headers: dict
    wire_headers: dict  # every header as it goes on the wire
    blocks: list  # [Block, ...]: head, sections, footer
    boundary: str
    envelope_from: str = ""  # the return path (VERP), "" for the default sender

    @functools.cached_property
    def raw(self):
        """The whole RFC 5322 message, CRLF line ends, 7-bit (quoted-printable)."""
        return mime_alternative(
            headers=self.wire_headers, blocks=self.blocks, boundary=self.boundary
        )

    @functools.cached_property
    def raw_8bit(self):
        """The same message with its parts as 8bit where they allow it, for servers that
        offer 8BITMIME (fewer and longer lines: the server takes them faster); None when
        neither part can be 8bit."""
        if not has_8bit_form(self.blocks):
            return None
        raw = mime_alternative(
            headers=self.wire_headers, blocks=self.blocks, eight_bit=True, boundary=self.boundary
        )
        # Quoted-printable can never contain "=_", 8bit text could (if it guessed the
        # random boundary): the header and three delimiters, or 7-bit only.
        return raw if raw.count(self.boundary.encode()) == 4 else None

    @functools.cached_property
    def text(self):
        return "".join(block.text for block in self.blocks)

    @functools.cached_property
    def html(self):
        return "".join(block.html for block in self.blocks)

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
        if composed.envelope_from:
            # django-anymail's name for the return path; ESPs that allow one use it.
            self.envelope_sender = composed.envelope_from

    def message(self, *, policy=email.policy.default):
        return _RawMIME(self.raw)


def header_value(value):
    """A header value safe to put on the wire: no CR/LF, RFC 2047 when not ASCII."""
    value = str(value)
    if "\r" in value or "\n" in value:
        raise ValueError("header values cannot contain line breaks")
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


# A bare address of the usual characters goes on the wire as it is; parsing it with
# email.utils took an eighth of the composing time per digest.
PLAIN_ADDRESS_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+")


def address_value(address):
    if PLAIN_ADDRESS_RE.fullmatch(address):
        return address
    name, addr = email.utils.parseaddr(address)
    if "@" not in addr or "\r" in address or "\n" in address:
        raise ValueError(f"not a usable address: {address!r}")
    return email.utils.formataddr((name, addr), charset="utf-8")


def _crlf_utf8(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _qp(text):
    """Quoted-printable bytes of `text` with CRLF line ends (RFC 2045 §6.7)."""
    return binascii.b2a_qp(_crlf_utf8(text), quotetabs=False, istext=True, header=False)


MAX_8BIT_LINE = 998  # octets, without the CRLF (RFC 5321 §4.5.3.1.6, RFC 2045 §2.8)


def _8bit(text):
    """UTF-8 bytes of `text` with CRLF line ends, when they can go as 8bit unchanged: every
    line at most 998 octets, no bare CR and no NUL. None otherwise (the part is then sent
    quoted-printable: wrapping the line would change the text the reader gets)."""
    data = _crlf_utf8(text)
    if b"\0" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    if len(data) > MAX_8BIT_LINE and max(map(len, data.split(b"\r\n"))) > MAX_8BIT_LINE:
        return None
    return data


@dataclass(frozen=True)
class Block:
    """A piece of a digest in both forms, with its wire bytes made once.

    Quoted-printable and 8bit both encode line by line, so blocks that end with a line
    break can be encoded apart and concatenated: each paper is encoded once per period,
    not once per subscriber. text_8bit / html_8bit are None when that form cannot carry
    the block as 8bit (see _8bit).
    """

    text: str
    html: str
    text_qp: bytes
    html_qp: bytes
    text_8bit: bytes | None = None
    html_8bit: bytes | None = None

    @classmethod
    def of(cls, text, html):
        text = text if text.endswith("\n") else text + "\n"
        html = html if html.endswith("\n") else html + "\n"
        return cls(text, html, _qp(text), _qp(html), _8bit(text), _8bit(html))


def _fold(line):
    """Fold a long header line after its commas (RFC 5322 §2.2.3: lines should stay
    under 78 characters; long URLs cannot be folded and may reach 998)."""
    return line if len(line) <= 78 else line.replace(", ", ",\r\n ")


def _part_body(blocks, form, eight_bit):
    """(Content-Transfer-Encoding, [bytes, ...]) of one part: 8bit when asked and every
    block has an 8bit form, quoted-printable otherwise."""
    if eight_bit:
        chunks = [getattr(block, f"{form}_8bit") for block in blocks]
        if None not in chunks:
            return "8bit", chunks
    return "quoted-printable", [getattr(block, f"{form}_qp") for block in blocks]


def mime_alternative(*, headers, blocks, eight_bit=False, boundary=None):
    """multipart/alternative bytes with a text and an HTML part, quoted-printable (7-bit
    clean, for any server), or with eight_bit=True as 8bit where the part allows it (only
    for a server that offers 8BITMIME, with BODY=8BITMIME)."""
    boundary = boundary or f"=_{uuid.uuid4().hex[:20]}"
    lines = [_fold(f"{name}: {value}") for name, value in headers.items()]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"']
    part_head = "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: {}"
    text_cte, text = _part_body(blocks, "text", eight_bit)
    html_cte, html = _part_body(blocks, "html", eight_bit)
    return b"".join(
        [
            "\r\n".join(lines).encode("ascii"),
            f"\r\n\r\n--{boundary}\r\n{part_head.format('plain', text_cte)}\r\n\r\n".encode(),
            *text,
            f"\r\n--{boundary}\r\n{part_head.format('html', html_cte)}\r\n\r\n".encode(),
            *html,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


def has_8bit_form(blocks):
    """True when at least one part of a digest of `blocks` can go as 8bit."""
    return all(b.text_8bit is not None for b in blocks) or all(
        b.html_8bit is not None for b in blocks
    )


def paper_context(paper, sought_positions=()):
    abstract = " ".join(tex_plain(paper.abstract.split("\n\n")[0]).split())
    names = paper.author_names
    authors = ", ".join(names[:AUTHORS_SHOWN])
    if len(names) > AUTHORS_SHOWN:
        later = [names[i] for i in sorted(sought_positions) if i >= AUTHORS_SHOWN]
        authors = ", ".join([authors, "…", *later]) if later else authors
        authors += " et al."
    return {
        "paper": paper,
        "title": tex_plain(paper.title),  # mail readers show text: no KaTeX there
        "authors": authors,
        "abstract": Truncator(abstract).chars(ABSTRACT_CHARS),
        "url": settings.SITE_URL + paper.get_absolute_url(),
    }


class DigestComposer:
    """Builds the digests of one period. Shared parts (head, each paper, each heading, the
    footer) are rendered and encoded once; compose() only joins bytes and adds headers."""

    UNSUBSCRIBE, MANAGE = "@@unsubscribe-url@@", "@@manage-url@@"

    def __init__(self, *, period_label, kind):
        self.context = {**site_context(), "period_label": period_label, "kind": kind}
        self.from_header = address_value(settings.DEFAULT_FROM_EMAIL)
        self.list_id = header_value(f"{settings.SITE_NAME} digest <digest.{site_domain()}>")
        self.date_header = email.utils.format_datetime(timezone.now())
        self.head = Block.of(*self._render("head", self.context))
        # The footer differs only by two links: rendered once with placeholders.
        self.foot = self._render(
            "foot", {**self.context, "unsubscribe_url": self.UNSUBSCRIBE, "manage_url": self.MANAGE}
        )
        self._papers = {}
        self._headings = {}
        self._titles = {}

    @staticmethod
    def _render(name, context):
        base = f"digests/email/digest/{name}"
        text = render_to_string(base + ".txt", context)
        html = render_to_string(base + ".html", context)
        return text, html

    def paper_block(self, paper, authors_sought=(), matched=""):
        """A paper's block; `matched`: under a topic, the sentence by which it matched."""
        positions = frozenset(author_positions(paper, authors_sought))
        key = (paper.id, positions, matched)
        block = self._papers.get(key)
        if block is None:
            context = {**self.context, **paper_context(paper, positions)}
            # A sentence the abstract's preview shows whole is not said twice.
            shown = matched and matched not in context["abstract"]
            context["matched"] = Truncator(matched).chars(MATCHED_CHARS) if shown else ""
            block = Block.of(*self._render("paper", context))
            self._papers[key] = block
        return block

    def heading_block(self, heading):
        if heading not in self._headings:
            self._headings[heading] = Block.of(
                *self._render("section", {**self.context, "heading": heading})
            )
        return self._headings[heading]

    def notifications_block(self, notifications):
        """The member's unread notifications: per subscriber, so never cached."""
        rows = [
            {
                "headline": item.headline,
                "quote": item.snippet,  # plain words, cut at a word
                "url": settings.SITE_URL + item.get_absolute_url(),
            }
            for item in notifications
        ]
        return Block.of(*self._render("notifications", {**self.context, "notifications": rows}))

    def subject(self, sections):
        count = sum(len(section.papers) for section in sections)
        top = sections[0].papers[0]
        if top.id not in self._titles:
            self._titles[top.id] = " ".join(Truncator(tex_plain(top.title)).chars(90).split())
        more = f" (+{count - 1} more)" if count > 1 else ""
        return f"{self.context['period_label']}: {self._titles[top.id]}{more}"

    def compose(
        self,
        *,
        to,
        sections,
        message_id,
        unsubscribe_url,
        manage_url,
        mailto="",
        notifications=(),
        envelope_from="",
    ):
        blocks = [self.head]
        if notifications:  # replies and mentions ride along; they never make a mail of their own
            blocks.append(self.notifications_block(notifications))
        for section in sections:
            blocks.append(self.heading_block(section.heading))
            blocks += [
                self.paper_block(p, section.authors_sought, section.matched.get(p.id, ""))
                for p in section.papers
            ]
        text_foot, html_foot = (
            part.replace(self.UNSUBSCRIBE, unsubscribe_url).replace(self.MANAGE, manage_url)
            for part in self.foot
        )
        blocks.append(Block.of(text_foot, html_foot))
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
            "List-Id": self.list_id,
            "Auto-Submitted": "auto-generated",
            "Precedence": "bulk",
        }
        headers["Message-ID"] = message_id
        return ComposedDigest(
            to=to,
            subject=subject,
            headers=headers,
            wire_headers=wire_headers,
            blocks=blocks,
            boundary=f"=_{uuid.uuid4().hex[:20]}",
            envelope_from=envelope_from,
        )


def site_domain():
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "localhost"
