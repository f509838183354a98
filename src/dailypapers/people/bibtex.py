"""BibTeX entries in the form arXiv itself gives (@misc with eprint, archivePrefix,
primaryClass), authors in paper order."""

import re
import unicodedata

from django.utils.text import slugify

# Characters that end or break a BibTeX field, or mean something to LaTeX outside math.
LATEX_SPECIALS = str.maketrans({"&": r"\&", "%": r"\%", "#": r"\#"})
STOP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}


def paper_bibtex(paper, *, key=None):
    """One @misc entry for `paper`."""
    fields = [
        ("title", _text(paper.title)),
        ("author", " and ".join(_text(name) for name in paper.author_names) or "Anonymous"),
        ("year", str(paper.published_at.year)),
        ("eprint", paper.arxiv_id),
        ("archivePrefix", "arXiv"),
    ]
    if paper.primary_category:
        fields.append(("primaryClass", paper.primary_category))
    if paper.doi:
        fields.append(("doi", _text(paper.doi)))
    fields.append(("url", f"https://arxiv.org/abs/{paper.arxiv_id}"))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
    return f"@misc{{{key or citation_key(paper)},\n{body}}}\n"


def papers_bibtex(papers):
    """Entries for several papers, citation keys kept unique (a, b, ... suffixes)."""
    seen = {}
    entries = []
    for paper in papers:
        key = citation_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            key = f"{key}{_suffix(count)}"
        entries.append(paper_bibtex(paper, key=key))
    return "\n".join(entries)


def citation_key(paper):
    """arXiv's style: first author's family name, year, first meaningful title word."""
    names = paper.author_names
    family = _ascii_word(names[0].split()[-1]) if names and names[0].split() else "anonymous"
    words = [_ascii_word(word) for word in re.split(r"[\s\-:]+", paper.title)]
    word = next((w for w in words if w and w not in STOP_WORDS), "") or "paper"
    return f"{family or 'anonymous'}{paper.published_at.year}{word}"


def _suffix(count):
    return chr(ord("a") + count - 1) if count <= 26 else str(count)


def _ascii_word(text):
    return slugify(unicodedata.normalize("NFKD", text)).replace("-", "")


def _text(value):
    """A field value: one line, LaTeX specials escaped outside $math$, braces balanced."""
    value = " ".join(str(value).split())
    if value.count("$") % 2:  # a lone dollar is a dollar, not math
        value = value.replace("$", r"\$")
        parts = [value]
    else:
        parts = value.split("$")
    for index in range(0, len(parts), 2):  # even parts are outside math
        parts[index] = parts[index].translate(LATEX_SPECIALS)
    value = "$".join(parts)
    if ("{" in value or "}" in value) and not _balanced(value):
        value = value.replace("{", "").replace("}", "")
    return value


def _balanced(value):
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
