"""Comment Markdown: what members write is shown as they meant it, and nothing they write
can run in a reader's browser."""

import re

import pytest

from dailypapers.community.markdown import mentioned_names, render_comment

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<iframe src=https://example.org></iframe>",
    '<svg onload="alert(1)">',
    "![x](https://example.org/x.png)",  # images are off: no tracking pixels, no CSP holes
    "<style>body{display:none}</style>",
    '[x](https://example.org "title" onmouseover=alert(1))',
    "$<img src=x onerror=alert(1)>$",  # inside math too
    "`<script>alert(1)</script>`",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_it_never_lets_markup_run(text):
    html = render_comment(text, members=["alice"])
    tags = re.findall(r"<([a-zA-Z][^<>]*)>", html)  # real tags; escaped ones are text
    names = {tag.split()[0].lower() for tag in tags}
    assert not names & {"script", "img", "iframe", "svg", "style", "object", "embed"}
    attributes = " ".join(tags).lower()
    assert not re.search(r"\son\w+=", attributes) and "style=" not in attributes
    for href in re.findall(r'\shref="([^"]*)"', " ".join(tags)):
        assert href.startswith(("https://", "http://", "mailto:", "/")), href


def test_it_renders_markdown_and_keeps_math_readable():
    html = render_comment("**Nice** result: $a_1 * b_2$ holds.\n\n$$\\sum_i x_i$$")
    assert "<strong>Nice</strong>" in html
    assert '<span class="math inline">$a_1 * b_2$</span>' in html  # no <em> inside math
    assert '<div class="math block">\n$$\\sum_i x_i$$\n</div>' in html


def test_money_is_not_math():
    assert render_comment("It costs $5 and $10.").strip() == "<p>It costs $5 and $10.</p>"


def test_it_links_urls_safely_and_keeps_line_breaks():
    html = render_comment("See https://arxiv.org/abs/2401.00001\nthanks")
    assert (
        '<a href="https://arxiv.org/abs/2401.00001" rel="nofollow ugc noopener noreferrer">' in html
    )
    assert "<br>" in html


def test_it_links_mentions_of_members_only():
    html = render_comment("@alice and @nobody, mail a@b.org; `@alice` in code", members=["alice"])
    assert '<a href="/u/alice" class="mention"' in html and ">@alice</a>" in html
    assert "@nobody" in html and "/u/nobody" not in html
    assert "<code>@alice</code>" in html  # code stays code


def test_it_finds_mentioned_names():
    assert mentioned_names("hi @alice, @bob. and @alice again; e@mail.org") == ["alice", "bob"]
