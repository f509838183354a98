"""BibTeX entries in the form arXiv itself gives (@misc with eprint, archivePrefix,
primaryClass), authors in paper order, written so that classic BibTeX with pdflatex reads
them as meant: organisations as one name, acronyms and model names kept as written,
accents and Greek letters as LaTeX."""

import re
import unicodedata

from django.utils.text import slugify
from pylatexenc.latexencode import UnicodeToLatexEncoder

# Characters that end or break a BibTeX field, or mean something to LaTeX outside math.
LATEX_SPECIALS = str.maketrans({"&": r"\&", "%": r"\%", "#": r"\#"})
STOP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}
# Non-ASCII as LaTeX ("é" -> {\'e}, "π" -> {\ensuremath{\pi}}), each in braces so that a
# style's case change leaves it alone; characters LaTeX has no name for stay UTF-8.
TO_LATEX = UnicodeToLatexEncoder(
    non_ascii_only=True,
    replacement_latex_protection="braces-all",
    unknown_char_policy="keep",
    unknown_char_warning=False,
)
# Letters NFKD does not take apart, for ASCII citation keys ("Altıntaş" -> altintas).
KEY_LETTERS = str.maketrans(
    {"ı": "i", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE"}
    | {"œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ð": "d", "þ": "th"}
)
# The last word of a byline name that is an organisation, not a person ("Prime Intellect
# Team", "Google Research", "OpenAI Inc."), compared in lower case; "AI" apart, in capitals
# only ("Allen Institute for AI", not the family name Ai).
COLLECTIVE_ENDINGS = {
    "team", "teams", "lab", "labs", "laboratory", "laboratories", "group", "consortium",
    "collaboration", "project", "initiative", "committee", "community", "contributors",
    "authors", "organization", "organisation", "foundation", "institute", "university",
    "research", "inc", "ltd", "llc", "corp", "corporation", "gmbh",
}  # fmt: skip
# Words that make a name an organisation wherever they stand ("University of Oxford").
COLLECTIVE_WORDS = {
    "university", "institute", "laboratory", "consortium", "collaboration", "team",
}  # fmt: skip
WORD = re.compile(r"[^\W_]+")
CORE = re.compile(r"[^\W_](.*[^\W_])?")  # a token from its first to its last letter or digit


def paper_bibtex(paper, *, key=None):
    """One @misc entry for `paper`."""
    authors = " and ".join(_author(name) for name in paper.author_names)
    fields = [
        ("title", _title(paper.title)),
        ("author", authors or "Anonymous"),
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
    """arXiv's style: first author's family name (an organisation's own name: "Prime
    Intellect Team" -> primeintellect), year, first meaningful title word."""
    names = paper.author_names
    family = _key_name(names[0]) if names else ""
    words = [_ascii_word(word) for word in re.split(r"[\s\-:]+", paper.title)]
    word = next((w for w in words if w and w not in STOP_WORDS), "") or "paper"
    return f"{family or 'anonymous'}{paper.published_at.year}{word}"


def is_collective(name):
    """Whether a byline name is an organisation rather than a person: it ends with a word
    such as Team, Lab, Group, Consortium, Project, Inc. or AI, has University, Institute,
    ... anywhere, or a word with a digit ("GLM-4.5 Team", "LLM360"). One word is not
    enough to tell ("NVIDIA", a mononym): BibTeX reads either as one family name anyway."""
    words = name.split()
    if len(words) < 2:
        return False
    last = words[-1].strip(".,")
    lowered = {word.strip(".,").lower() for word in words}
    return (
        last == "AI"
        or last.lower() in COLLECTIVE_ENDINGS
        or bool(lowered & COLLECTIVE_WORDS)
        or any(char.isdigit() for char in name)
    )


def _key_name(name):
    words = name.split()
    if not words:
        return ""
    if not is_collective(name):
        return _ascii_word(words[-1])
    kept = [w for w in words if w.strip(".,").lower() not in COLLECTIVE_ENDINGS | STOP_WORDS]
    kept = [w for w in kept if w != "AI" and w.lower() not in COLLECTIVE_WORDS]
    return "".join(_ascii_word(word) for word in kept or words)[:30]


def _suffix(count):
    return chr(ord("a") + count - 1) if count <= 26 else str(count)


def _ascii_word(text):
    text = unicodedata.normalize("NFKD", text.translate(KEY_LETTERS))
    return slugify(text).replace("-", "")


def _author(name):
    """One name of the author field. An organisation, or any name BibTeX would split on
    its own "and" or read as "Family, Given", is braced whole: {Prime Intellect Team}."""
    value = _text(name)
    splits = re.search(r"(^|\s)and(\s|$)", value, re.IGNORECASE) or "," in value
    if (is_collective(name) or splits) and _balanced(value):
        return f"{{{value}}}"
    return value


def _title(title):
    """The title field, each word that has capitals past its first letter, or letters and
    digits, braced so that styles keep it as written: {DiRL}:, {SAM}, {TokSuite},
    {Qwen2.5-VL}; "Training" or "Post-Training" stays open to the style's casing."""
    value = _text(title, latex=False)
    parts = value.split("$") if value.count("$") % 2 == 0 else [value]
    for index in range(0, len(parts), 2):  # even parts are outside math
        parts[index] = " ".join(_protect(token) for token in parts[index].split(" "))
    return _latex("$".join(parts))


def _protect(token):
    """{core} of a word that keeps its case, its opening and closing punctuation left out."""
    if any(char in token for char in "{}\\"):  # already LaTeX: as the paper wrote it
        return token
    core = CORE.search(token)
    if core is None or not any(_keeps_case(word) for word in WORD.findall(core[0])):
        return token
    return f"{token[: core.start()]}{{{core[0]}}}{token[core.end() :]}"


def _keeps_case(word):
    has_alpha = any(char.isalpha() for char in word)
    return any(char.isupper() for char in word[1:]) or (
        has_alpha and any(char.isdigit() for char in word)
    )


def _text(value, *, latex=True):
    """A field value: one line, LaTeX specials escaped outside $math$, braces balanced,
    non-ASCII as LaTeX where it has a name."""
    value = " ".join(unicodedata.normalize("NFC", str(value)).split())
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
    return _latex(value) if latex else value


def _latex(value):
    return TO_LATEX.unicode_to_latex(value) if not value.isascii() else value


def _balanced(value):
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
