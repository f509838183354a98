"""What a reader typed, turned into a structured query. Never raises: any text is a query.

Syntax: words, "quoted phrases", -exclude (word or phrase), and the field prefixes
ti: au: abs: cat: id: (ti:"a phrase" works too). A query that is only an arXiv id or URL
points at that paper. A field prefix restricts: id: with what is not an arXiv id matches
nothing, and a prefix with nothing after it ("ti:") is left out; both are said in
`problems`, never searched as "everything".
"""

import re
import unicodedata
from dataclasses import dataclass, field

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.tex import tex_words

MAX_QUERY_CHARS = 500  # longer text is cut: nobody types more, and it bounds the work
MAX_TERMS = 32
FIELDS = {"ti": "title", "title": "title", "au": "authors", "author": "authors",
          "abs": "abstract", "abstract": "abstract"}  # fmt: skip
# A prefix followed by a space or the end ("ti:") is a prefix with an empty value.
TOKEN = re.compile(
    r'(?P<neg>-?)(?:(?P<field>[a-z]+):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)|(?<=:)(?=\s|$))',
    re.IGNORECASE,
)
EXAMPLES = {"title": 'ti:"mixture of experts"', "authors": 'au:"Ada Lovelace"',
            "abstract": "abs:pruning", "cat": "cat:cs.CL", "id": "id:2401.01234"}  # fmt: skip


@dataclass
class Clause:
    text: str
    field: str | None = None  # None: title, abstract and authors
    phrase: bool = False
    expansion: bool = False  # added by search (an acronym's other form), not typed
    of: str | None = None  # an expansion's typed word ("LMs" for "language models")


@dataclass
class ParsedQuery:
    text: str  # cleaned text, as typed
    should: list[Clause] = field(default_factory=list)  # free words: ranked, any may match
    must: list[Clause] = field(default_factory=list)  # phrases and fielded terms
    must_not: list[Clause] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)  # id: prefixes and a bare id or URL
    excluded_categories: list[str] = field(default_factory=list)  # -cat:
    excluded_ids: list[str] = field(default_factory=list)  # -id:
    short_form: str | None = None  # the acronym that the whole query spells out (acronyms.py)
    # Sentences for the reader about terms that could not be searched as typed.
    problems: list[str] = field(default_factory=list)
    matches_nothing: bool = False  # a restriction no paper can meet (id: with no arXiv id)

    @property
    def is_empty(self):
        return not (
            self.should or self.must or self.must_not or self.categories or self.arxiv_ids
            or self.excluded_categories or self.excluded_ids
        )  # fmt: skip

    @property
    def is_plain(self):
        """Only free words: the kind of query semantic search can help with."""
        return bool(self.should) and not (self.must or self.must_not or self.arxiv_ids)

    @property
    def free_text(self):
        """The words typed (not the acronym expansions), for the embedder."""
        return " ".join(c.text for c in self.should + self.must if not c.expansion)


def clean(text):
    """Drop control and format characters, collapse spaces, cut to MAX_QUERY_CHARS."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text[: MAX_QUERY_CHARS * 4])
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def as_arxiv_id(text):
    try:
        return parse_arxiv_id(text).base
    except InvalidArxivId:
        return None


def parse(text):
    cleaned = clean(text)
    parsed = ParsedQuery(text=cleaned)
    whole = as_arxiv_id(cleaned) if cleaned and " " not in cleaned else None
    if whole:
        parsed.arxiv_ids.append(whole)
        return parsed
    for match in TOKEN.finditer(cleaned):
        if len(parsed.should) + len(parsed.must) + len(parsed.must_not) >= MAX_TERMS:
            break
        prefix = (match["field"] or "").lower()
        value = (match["phrase"] if match["phrase"] is not None else match["word"]) or ""
        value = value.strip()
        is_phrase = match["phrase"] is not None
        if prefix and prefix not in FIELDS and prefix not in ("cat", "id"):
            value, prefix = f"{match['field']}:{value}", ""  # "bert:" is just a word
        if not value:
            if prefix:
                parsed.problems.append(_empty_prefix(match["field"], prefix))
            continue
        if prefix == "cat":
            (parsed.excluded_categories if match["neg"] else parsed.categories).append(
                value.lower()
            )
            continue
        if prefix == "id":
            try:
                arxiv_id = parse_arxiv_id(value).base
            except InvalidArxivId as exc:
                parsed.problems.append(str(exc))
                # Only the papers with that id, and no paper has it. (-id: excludes none.)
                parsed.matches_nothing = parsed.matches_nothing or not match["neg"]
                continue
            (parsed.excluded_ids if match["neg"] else parsed.arxiv_ids).append(arxiv_id)
            continue
        # TeX pasted from an abstract ("\emph{Uni-Instruct}") is read as the index holds it.
        if not (value := tex_words(value).strip()):
            continue
        clause = Clause(text=value, field=FIELDS.get(prefix), phrase=is_phrase)
        if match["neg"] and (is_phrase or len(value) > 0):
            parsed.must_not.append(clause)
        elif is_phrase or clause.field:
            parsed.must.append(clause)
        else:
            parsed.should.append(clause)
    return parsed


def _empty_prefix(typed, prefix):
    example = EXAMPLES[FIELDS.get(prefix, prefix)]
    return (
        f"“{typed}:” has nothing after it, so it was left out: "
        f"write what to look for right after the colon, as in {example}."
    )


WORDS = re.compile(r"\w+")


def normalise_title(text):
    """For exact-title pinning: case, punctuation and spacing do not matter."""
    return " ".join(WORDS.findall(text.lower()))
