"""The digest's MIME bytes, built by hand for speed, read back by Python's email package."""

import email
import email.policy

import pytest

from dailypapers.digests.emails import (
    Block,
    DigestComposer,
    Section,
    header_value,
    mime_alternative,
)


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_it_builds_mime_that_reads_back_exactly():
    awkward = [
        Block.of("Ünïcödé ✓ — 量子 and = signs =3D\n", "<p>Ünïcödé ✓</p>\n"),
        Block.of(
            "x" * 300 + "\n.leading dot\nFrom the start\ntrailing space \n",
            "<p>" + "y" * 500 + "</p>\n",
        ),
        Block.of("tab\tand\r\nCRLF\n", "<b>end</b>"),
    ]
    raw = mime_alternative(headers={"Subject": "s", "To": "a@example.org"}, blocks=awkward)
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))  # RFC 5322 line limit
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    message = parse(raw)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.replace("\r\n", "\n") == "".join(block.text for block in awkward).replace(
        "\r\n", "\n"
    )
    assert html.replace("\r\n", "\n") == "".join(block.html for block in awkward)
    assert not message.defects


def test_it_refuses_header_injection_and_encodes_unicode():
    with pytest.raises(ValueError):
        header_value("Hello\r\nBcc: victim@example.org")
    encoded = header_value("Réseaux de neurones: 量子")
    assert encoded.isascii() and "=?utf-8?" in encoded
    assert (
        str(parse(f"Subject: {encoded}\r\n\r\n".encode())["Subject"]) == "Réseaux de neurones: 量子"
    )
    long = "Überlange Überschrift, " * 8
    folded = header_value(long)
    assert "\r\n " in folded and "\n" not in folded.replace("\r\n", "")
    assert str(parse(f"Subject: {folded}\r\n\r\n".encode())["Subject"]) == long


def test_it_shares_rendered_papers_and_personalises_links(make_paper, settings):
    settings.SITE_URL = "https://papers.example.org"
    paper = make_paper(title="Attention über alles", authors=[{"name": f"A{n}"} for n in range(9)])
    composer = DigestComposer(period_label="Tue 30 Dec 2025", kind="daily")
    digests = [
        composer.compose(
            to=f"{name}@example.org",
            sections=[Section(heading="", papers=[paper])],
            message_id=f"<{name}@example.org>",
            unsubscribe_url=f"https://papers.example.org/unsubscribe/{name}-token",
            manage_url=f"https://papers.example.org/subscribe/manage/{name}-token",
        )
        for name in ("ada", "bob")
    ]
    assert composer.paper_block(paper) is composer.paper_block(paper)  # rendered once
    for name, digest in zip(("ada", "bob"), digests, strict=True):
        message = parse(digest.raw)
        assert message["To"] == f"{name}@example.org"
        assert message["Subject"] == "Tue 30 Dec 2025: Attention über alles"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert f"/unsubscribe/{name}-token" in text and "A5 et al." in text
        other = "bob" if name == "ada" else "ada"
        assert other not in digest.raw.decode()


def _parts(raw):
    message = parse(raw)
    assert not message.defects
    return [
        (part["Content-Transfer-Encoding"], part.get_content().replace("\r\n", "\n"))
        for part in message.iter_parts()
    ]


def test_it_builds_8bit_mime_that_reads_back_exactly():
    blocks = [
        Block.of("Ünïcödé ✓ — 量子 = =3D\n.leading dot\nFrom x\n", "<p>Ünïcödé ✓</p>\n"),
        Block.of("tab\tand\r\nCRLF\n" + "é" * 499 + "\n", "<b>end</b>"),  # 998 octets
    ]
    raw = mime_alternative(headers={"Subject": "s"}, blocks=blocks, eight_bit=True)
    lines = raw.split(b"\r\n")
    assert max(map(len, lines)) == 998 and b"\n" not in b"".join(lines)
    assert _parts(raw) == [
        ("8bit", "".join(block.text for block in blocks).replace("\r\n", "\n")),
        ("8bit", "".join(block.html for block in blocks)),
    ]


@pytest.mark.parametrize(
    "text",
    ["a" * 3000 + "\n", "https://example.org/" + "é" * 490 + "\n", "bare\rcarriage\n", "nul\0\n"],
)
def test_it_keeps_quoted_printable_for_a_part_8bit_cannot_carry(text):
    blocks = [Block.of("fine\n", "<p>fine</p>\n"), Block.of(text, "<p>ok</p>\n")]
    assert blocks[1].text_8bit is None
    raw = mime_alternative(headers={"Subject": "s"}, blocks=blocks, eight_bit=True)
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    (text_cte, text_back), (html_cte, html_back) = _parts(raw)
    assert (text_cte, html_cte) == ("quoted-printable", "8bit")
    assert text_back == "fine\n" + text.replace("\r\n", "\n")
    assert html_back == "<p>fine</p>\n<p>ok</p>\n"


def test_it_composes_both_forms_of_a_digest(make_paper):
    paper = make_paper(title="Long abstract", abstract="x" * 3000)
    composer = DigestComposer(period_label="Tue 30 Dec 2025", kind="daily")
    digest = composer.compose(
        to="ada@example.org",
        sections=[Section(heading="", papers=[paper])],
        message_id="<ada@example.org>",
        unsubscribe_url="https://papers.example.org/unsubscribe/t",
        manage_url="https://papers.example.org/subscribe/manage/t",
    )
    assert digest.raw.isascii() and digest.raw_8bit is not None
    assert [part[1] for part in _parts(digest.raw)] == [part[1] for part in _parts(digest.raw_8bit)]
    assert max(map(len, digest.raw_8bit.split(b"\r\n"))) <= 998


def test_it_says_the_sentence_a_topic_matched_once(make_paper):
    first = "We route tokens to experts."
    filler = "Other words follow here. " * 40
    paper = make_paper(abstract=f"{first} {filler}Late router line.")
    composer = DigestComposer(period_label="Tue 30 Dec 2025", kind="daily")
    late = composer.paper_block(paper, matched="Late router line.")
    assert "Matched: “Late router line.”" in late.text and "Late router line." in late.html
    # The preview shows the first sentence already: no line repeats it.
    shown = composer.paper_block(paper, matched=first)
    assert "Matched:" not in shown.text and "Matched:" not in shown.html


def test_a_paper_without_upvotes_shows_no_count_and_the_day_is_not_called_today(make_paper):
    """A digest sent for a past day (`digest send --date`) is that day's, and a fresh day's
    papers have no upvotes yet: "0 upvotes" on every paper says nothing."""
    fresh, liked = make_paper(title="Fresh paper"), make_paper(title="Liked", imported_upvotes=3)
    composer = DigestComposer(period_label="Tue 30 Dec 2025", kind="daily")
    digest = composer.compose(
        to="ada@example.org",
        sections=[Section(heading="", papers=[fresh, liked])],
        message_id="<ada@example.org>",
        unsubscribe_url="https://papers.example.org/unsubscribe/t",
        manage_url="https://papers.example.org/subscribe/manage/t",
    )
    text, html = (content for _, content in _parts(digest.raw))
    assert "0 upvote" not in text and "&#9650; 0<" not in html and "▲ 0<" not in html
    assert "3 upvotes" in text
    assert "Today" not in text and "Today" not in html
    assert "The day's top trending papers" in text
