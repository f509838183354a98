"""Helpers every source shares: streaming lines out of (gzipped) files, tidy text, dates."""

import gzip
import multiprocessing
import re
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from dailypapers.papers.arxiv_ids import InvalidArxivId, split_versioned

from ..records import Rejected


def clean_text(text):
    """arXiv hard-wraps titles and abstracts: one line, single spaces."""
    return " ".join((text or "").split())


PLAIN_NEW_ID = re.compile(r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}\Z")


def split_id(text):
    """'2401.01234v3' -> ('2401.01234', 3); version None when absent. Raises InvalidArxivId."""
    if isinstance(text, str) and PLAIN_NEW_ID.match(text):
        return text, None  # the common case, without the full parser's URL handling
    return split_versioned((text or "").strip())


def parse_datetime(text):
    """ISO 8601 ('2025-12-27T09:07:12.000Z', '2025-12-27') -> aware UTC datetime, or None."""
    if not text:
        return None
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=UTC)
    try:
        value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def json_lines(path, parse):
    """Yield parse(obj, where) for each JSON line of a plain or gzipped file, streamed.

    Bad lines and a truncated gzip stream become Rejected items; the rest goes on.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    lineno = 0
    try:
        # Bytes to orjson: no text decoding layer, and its parser is 2-3x json's.
        with opener(path, "rb") as lines:
            for lineno, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    obj = orjson.loads(line)
                except ValueError as exc:
                    yield Rejected(where, f"not valid JSON ({exc})")
                    continue
                if not isinstance(obj, dict):
                    yield Rejected(where, "not a JSON object")
                    continue
                yield parse(obj, where)
    except (EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError) as exc:
        yield Rejected(
            f"{path.name}:{lineno + 1}", f"the file is damaged or truncated here ({exc})"
        )


def reject_bad_id(where, exc):
    return Rejected(where, str(exc) if isinstance(exc, InvalidArxivId) else repr(exc))


def parse_rfc2822(text):
    """'Tue, 3 Apr 2007 22:04:11 GMT' (arXiv's version dates) -> aware datetime, or None."""
    from email.utils import parsedate_to_datetime

    try:
        value = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def split_authors(text):
    """'A. One, B. Two (MIT), and C. Three' -> [{"name": "A. One"}, ...]."""
    text = re.sub(r"\([^()]*\)", " ", clean_text(text))  # affiliations
    names = re.split(r",\s*(?:and\s+)?|\s+and\s+", text)
    return [{"name": clean_text(name)} for name in names if clean_text(name)]


WORDLESS = re.compile(r"[\W_]*\Z")  # a "name" with no letter or digit: ":", "-", "&"
LEADING_LABELS = 3  # "Codefuse, Ling Team: ..." -- more names than this before a colon are people


def split_collaborations(authors):
    """[{"name": ...}] as arXiv writes a collaboration's byline ("NVIDIA: A. One, B. Two",
    which its API and listings give as the names "NVIDIA", ":", "A. One", ...) ->
    (the people, the collaboration labels). A label is a name before a colon (all the
    names before the first colon when there are at most LEADING_LABELS of them, else the
    one just before it); a colon inside a name ("NVIDIA: A. One", from a raw author string)
    splits it the same way. Names with no letter or digit are never people."""
    if not any(":" in author["name"] or WORDLESS.match(author["name"]) for author in authors):
        return authors, []  # the common case, at the cost of one pass
    people, labels, seen_colon = [], [], False
    for author in authors:
        parts = author["name"].split(":")
        for index, part in enumerate(parts):
            if index:  # a colon: what came just before it is a label
                if not seen_colon and len(people) <= LEADING_LABELS:
                    labels.extend(person["name"] for person in people)
                    people = []
                elif people:
                    labels.append(people.pop()["name"])
                seen_colon = True
            name = " ".join(part.split())
            if not WORDLESS.match(name):
                people.append({**author, "name": name} if name != author["name"] else author)
    return people, labels


def versions_from(items):
    """[(label 'v2' or 2, created datetime)] -> ([{"version": 2, "created": iso}], latest,
    first date, latest date); entries without a readable date or number are skipped."""
    versions = []
    for label, created in items:
        try:
            number = int(str(label).lstrip("vV"))
        except ValueError:
            continue
        if created is not None and number >= 1:
            versions.append({"version": number, "created": created.isoformat()})
    versions.sort(key=lambda v: v["version"])
    if not versions:
        return [], 1, None, None
    first = datetime.fromisoformat(versions[0]["created"])
    last = datetime.fromisoformat(versions[-1]["created"])
    return versions, versions[-1]["version"], first, last


READ_AHEAD_BATCH = 1_000  # records a message
READ_AHEAD_DEPTH = 8  # messages in flight: bounded memory whatever the file's size


def read_ahead(items):
    """The items of the iterable `items`, produced in a forked child process.

    Reading, decompressing and parsing a big file take a quarter of an import's time, and
    the GIL keeps a thread from overlapping them with the upsert; a child process does.
    Where fork is not available (Windows), the items are produced here, as before."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from items
        return
    context = multiprocessing.get_context("fork")
    queue = context.Queue(READ_AHEAD_DEPTH)
    child = context.Process(target=_produce, args=(items, queue), daemon=True)
    child.start()
    try:
        while (batch := queue.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            yield from batch
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def _produce(items, queue):
    try:
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) >= READ_AHEAD_BATCH:
                queue.put(batch)
                batch = []
        queue.put(batch)
        queue.put(None)
    except BaseException as exc:  # the reader's error, raised in the parent
        queue.put(exc)
