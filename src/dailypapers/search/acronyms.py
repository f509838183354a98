"""Acronyms mined from the papers themselves, so that "LMs" also finds "language models".

Abstracts define their acronyms: "large language models (LLMs)", "key-value (KV) cache".
`refresh()` collects these definitions from every visible paper (the Schwartz-Hearst
letter-matching rule: each letter of the short form, right to left, is found in the long
form, the first one at the start of a word) and keeps, for each short form, the long form
that most papers use. A query word that is a known short form also matches its long
form. Any field's acronyms work, with no hand-made list; `dailypapers search reindex`
and a nightly task refresh the table.
"""

import collections
import dataclasses
import re
import threading
import time

from django.db import transaction

from .query import Clause, ParsedQuery

MIN_PAPERS = 2  # papers that must define an acronym the same way
MIN_SHARE = 0.6  # of the short form's definitions: ambiguous ones are left alone
CACHE_SECONDS = 300
SHORT_FORM = re.compile(r"\(([A-Za-z][A-Za-z0-9-]{1,11})\)")
WORD = re.compile(r"[\w-]+")

_cache = {"loaded": 0.0, "short": {}}
_lock = threading.Lock()


def short_key(short):
    """ "LLMs" and "LLM" are one acronym; case does not matter once mined."""
    if len(short) > 2 and short.endswith("s") and short[-2].isupper():
        short = short[:-1]
    return short.lower()


def long_key(long):
    """For comparing long forms: "Large Language Models" = "large-language model"."""
    words = [w.rstrip("s") if len(w) > 3 else w for w in re.split(r"[\s-]+", long.lower())]
    return " ".join(w for w in words if w)


def long_form(short, before):
    """The words of `before` (text ending just before "(short)") that spell `short`, or None."""
    words = WORD.findall(before)[-min(len(short) + 5, 2 * len(short)) :]
    text = " ".join(words)
    s, i = len(short) - 1, len(text) - 1
    while s >= 0:
        letter = short[s].lower()
        if not letter.isalnum():
            s -= 1
            continue
        # Walk left to the letter; the acronym's first letter must start a word.
        while i >= 0 and (
            text[i].lower() != letter or (s == 0 and i > 0 and text[i - 1].isalnum())
        ):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    found = text[text.rfind(" ", 0, i + 1) + 1 :]
    if not found or short.lower() in found.lower() or len(found) <= len(short):
        return None
    return found


def definitions(text):
    """[(short key, long form)] defined in one abstract; long forms lowercased, unhyphenated."""
    found = []
    text = text or ""
    for match in SHORT_FORM.finditer(text):
        short = match[1]
        if sum(ch.isupper() for ch in short) < 2:  # "(e.g.)", "(see)", "(Table)"
            continue
        before = text[max(0, match.start() - 160) : match.start()]
        before = re.split(r"[()]", before)[-1]
        if (long := long_form(short, before)) is not None:
            found.append((short_key(short), " ".join(re.split(r"[\s-]+", long.lower()))))
    return found


def mine(texts):
    """{short: (long, papers)} for the acronyms that enough texts define the same way.

    "large language models" and "large language model" count as one long form."""
    counts = collections.defaultdict(collections.Counter)
    spelling = {}
    for text in texts:
        for short, long in set(definitions(text)):
            counts[short][long_key(long)] += 1
            spelling.setdefault((short, long_key(long)), long)
    table = {}
    for short, longs in counts.items():
        key, papers = longs.most_common(1)[0]
        if papers >= MIN_PAPERS and papers >= MIN_SHARE * sum(longs.values()):
            table[short] = (spelling[short, key], papers)
    return table


def refresh():
    """Recount the acronyms of all visible papers into the Acronym table. Returns its size."""
    from dailypapers.papers.models import Paper

    from .models import Acronym

    abstracts = Paper.objects.visible().values_list("abstract", flat=True).iterator(5000)
    table = mine(abstracts)
    with transaction.atomic():
        Acronym.objects.all().delete()
        Acronym.objects.bulk_create(
            Acronym(short=short, long=long, papers=papers)
            for short, (long, papers) in table.items()
        )
    reset_cache()
    return len(table)


def typed_as_acronym(word):
    """ "LMs", "3D", as opposed to "time" (which some paper may define as an acronym too):
    search scores these and their long forms as one word (keyword.KeywordIndex._synonyms)."""
    return sum(ch.isupper() for ch in word) >= 2 or (word[:1].isdigit() and word.isalnum())


def reset_cache():
    """Read the table again at the next query (after a refresh; tests)."""
    _cache["loaded"] = 0.0


def _short_forms():
    """{short: long}, read again every few minutes."""
    from .models import Acronym

    with _lock:
        if time.monotonic() - _cache["loaded"] > CACHE_SECONDS:
            table = dict(Acronym.objects.values_list("short", "long").iterator(10000))
            _cache.update(loaded=time.monotonic(), short=table)
        return _cache["short"]


def expand(parsed: ParsedQuery) -> ParsedQuery:
    """The query with each typed acronym's long form added as a ranked clause (weighted
    low by the engine: keyword.EXPANSION_BOOST), unless the long form is typed too.

    The other way round only for a query that is a long form and nothing else ("low-rank
    adaptation" also searches "LoRA", and titles that say "LoRA" count as holding the
    query's words): adding "RL" to every query that says "reinforcement learning" was
    measured to add noise (known items 0.966 -> 0.927 with both directions)."""
    if not parsed.should:
        return parsed
    short_to_long = _short_forms()
    if not short_to_long:
        return parsed
    typed = [long_key(clause.text) for clause in parsed.should]
    typed_text = f" {' '.join(typed)} "
    short = None if parsed.must else _short_form_of(" ".join(typed), short_to_long)
    extra = [Clause(text=short, expansion=True)] if short else []
    for clause in parsed.should:
        long = next((short_to_long[k] for k in _keys(clause.text) if k in short_to_long), None)
        if long and f" {long_key(long)} " not in typed_text and len(clause.text) <= 12:
            extra.append(Clause(text=long, expansion=True, of=clause.text))
    if not extra:
        return parsed
    return dataclasses.replace(parsed, should=parsed.should + extra, short_form=short)


def _keys(typed):
    """The short forms a typed word may be: "LMs" is "lm" before it is "lms", "llms" is
    "llm"; none for a word the engine does not rank, typed in lower case ("how", "at",
    "its": the abstracts define "(HO)", "(AT)", "(ITS)", and "how" searched "human
    object"). Only a final s is a plural: "how" is not "ho"."""
    from .keyword import STOPWORDS  # keyword imports this module

    word = typed.lower()
    if word in STOPWORDS and not typed_as_acronym(typed):
        return []
    return [short_key(typed), word] + ([word[:-1]] if word.endswith("s") else [])


def _short_form_of(typed, short_to_long):
    """The short form whose long form is exactly the typed text (long_key), or None."""
    if len(typed.split()) < 2:  # a word is not spelt out
        return None
    with _lock:
        if _cache.get("long_loaded") != _cache["loaded"]:
            _cache["long"] = {long_key(long): short for short, long in short_to_long.items()}
            _cache["long_loaded"] = _cache["loaded"]
        return _cache["long"].get(typed)
