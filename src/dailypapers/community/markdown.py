"""Comment Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off, images off),
then the nh3 sanitiser (Ammonia) as a second, independent wall.

- Math stays as its TeX source, `$...$` and `$$...$$`, wrapped in a `.math` element that
  the page's vendored KaTeX typesets; without JavaScript the TeX is readable text. The
  dollarmath plugin keeps `_` and `*` inside math from turning into emphasis. A formula
  nested deeper than MAX_MATH_NESTING, longer than MAX_MATH_LENGTH or defining commands is
  refused (`math_problem`): typesetting one can crash a reader's browser tab. web/math.js skips
  the same spans, so one stored before the check stays plain TeX.
- `@name` becomes a link to that member's page when the member exists (`mentioned_names`
  finds the candidates; the caller looks them up).
- A line break is a line break (as people type comments), not a space.
- Links: http, https and mailto only; rel="nofollow ugc noopener noreferrer".
"""

import html
import re

import nh3
from django.urls import reverse
from django.utils.html import escape
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

MAX_MATH_NESTING = 24  # braces, \left…\right and \begin…\end, one inside the other
MAX_MATH_LENGTH = 2000  # characters in one formula
# Commands that define commands: their expansion can nest without the source showing it.
TEX_DEFINES = re.compile(
    r"\\(?:[gex]?def|let|futurelet|(?:re|provide)?newcommand|newenvironment)(?![a-zA-Z])"
)
TEX_NESTING = re.compile(r"\\(?:left|begin)(?![a-zA-Z])|\\(?:right|end)(?![a-zA-Z])|\\.|[{}]", re.S)

# Django usernames: letters, digits and @.+-_; a trailing "." or "-" is punctuation.
MENTION = re.compile(r"(?<![\w@.+\-/])@([\w.+\-]*\w)")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "hr", "h1", "h2", "h3", "h4", "h5", "h6", "span", "div",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_CLASSES = {"a": {"mention"}, "span": {"math", "inline"}, "div": {"math", "inline", "block"}}


def mentioned_names(text):
    """The distinct @names in `text`, in order of first appearance."""
    return list(dict.fromkeys(MENTION.findall(text or "")))


def math_nesting(tex):
    """How deep groups nest in a TeX formula: `{…}`, `\\left…\\right`, `\\begin…\\end`
    (escaped braces and other commands do not count). The same count as web/math.js."""
    depth = deepest = 0
    for match in TEX_NESTING.finditer(tex):
        token = match[0]
        if token in ("{", "\\left", "\\begin"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("}", "\\right", "\\end"):
            depth = max(depth - 1, 0)
    return deepest


def math_spans(text):
    """The TeX of each formula the page would typeset in `text` (without the dollars)."""
    spans, stack = [], list(_parser().parse(text))
    while stack:
        token = stack.pop()
        if token.type.startswith("math"):
            spans.append(token.content)
        stack.extend(token.children or ())
    return spans


def math_problem(text):
    """A sentence saying why a formula in `text` cannot be shown, or "" when all can."""
    for tex in math_spans(text):
        if TEX_DEFINES.search(tex):
            return "Formulas in comments cannot define commands (\\def, \\newcommand and the like)."
        if math_nesting(tex) > MAX_MATH_NESTING:
            return (
                f"A formula in this comment nests more than {MAX_MATH_NESTING} levels deep "
                "(braces or \\left…\\right, one inside the other); simplify it."
            )
        if len(tex) > MAX_MATH_LENGTH:
            return (
                f"A formula in this comment is longer than {MAX_MATH_LENGTH:,} characters; "
                "shorten it or split it into several."
            )
    return ""


def render_comment(text, *, members=()):
    """Safe HTML for a comment's Markdown; `members`: the usernames that @ may link to."""
    html = _parser().render(text, {"members": set(members)})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "ol": {"start"}},
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener noreferrer",
    )


BLOCK_END = re.compile(r"<(?:br|hr|/(?:p|li|td|th|tr|h\d|pre|blockquote|div))\b[^>]*>", re.I)
SNIPPET_LENGTH = 200


def plain_text(comment_html):
    """The words of a comment's sanitised HTML (`body_html`) as one line: no Markdown
    punctuation, no tags; formulas stay as their TeX source, `$...$`."""
    text = nh3.clean(BLOCK_END.sub(" ", comment_html or ""), tags=set())
    return " ".join(html.unescape(text).split())


def snippet(comment_html, limit=SNIPPET_LENGTH):
    """plain_text cut to at most `limit` characters, at a word, with "…" when cut."""
    text = plain_text(comment_html)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _tex(content, options):
    delimiter = "$$" if options.get("display_mode") else "$"
    return escape(f"{delimiter}{content}{delimiter}")


_PARSER = None


def _parser():
    global _PARSER
    if _PARSER is None:
        parser = MarkdownIt("js-default", {"linkify": True, "html": False, "breaks": True})
        parser.enable(["linkify", "strikethrough", "table"]).disable("image")
        parser.use(
            dollarmath_plugin,
            allow_labels=False,
            allow_digits=False,  # "$5 and $10" is money, not math
            double_inline=True,
            renderer=_tex,
        )
        parser.core.ruler.push("mentions", _link_mentions)
        _PARSER = parser
    return _PARSER


def _link_mentions(state):
    members = state.env.get("members") or set()
    if not members:
        return
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = list(_with_mention_links(block.children, members))


def _with_mention_links(tokens, members):
    inside_link = 0
    for token in tokens:
        inside_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        if token.type != "text" or inside_link:
            yield token
            continue
        yield from _split_mentions(token.content, members)


def _split_mentions(text, members):
    position = 0
    for match in MENTION.finditer(text):
        if match[1] not in members:
            continue
        if match.start() > position:
            yield _text(text[position : match.start()])
        href = reverse("profile", args=[match[1]])
        yield Token("link_open", "a", 1, attrs={"href": href, "class": "mention"})
        yield _text(match[0])
        yield Token("link_close", "a", -1)
        position = match.end()
    if position < len(text):
        yield _text(text[position:])


def _text(content):
    return Token("text", "", 0, content=content)
