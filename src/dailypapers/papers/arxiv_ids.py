"""arXiv identifiers: parse whatever a user types into (base id, version).

New style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-), optional vN.
Old style: archive(.SUBJECT-CLASS)/YYMMNNN, e.g. hep-th/9901001v2, math.AG/0601001.
Accepted wrappers: "arXiv:" prefixes, abs/pdf/html URLs (with or without ".pdf"),
huggingface.co/papers/ and our own /papers/ URLs.
"""

import re
from dataclasses import dataclass

NEW_STYLE = r"(?P<new>\d{4}\.\d{4,5})"
OLD_STYLE = r"(?P<old>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
ID_PATTERN = re.compile(rf"^(?:{NEW_STYLE}|{OLD_STYLE})(?:v(?P<version>\d+))?$")

URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|[^/]+/papers/)",
    re.IGNORECASE,
)


class InvalidArxivId(ValueError):
    """The text is not an arXiv identifier or a URL that contains one."""


@dataclass(frozen=True)
class ArxivId:
    base: str
    version: int | None = None

    def __str__(self):
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def is_old_style(self):
        return "/" in self.base

    @property
    def yymm(self):
        """The year and month of first submission, as (year, month)."""
        digits = self.base.split("/")[-1][:4]
        year = int(digits[:2])
        return (2000 + year if year < 91 else 1900 + year, int(digits[2:4]))


def parse_arxiv_id(text):
    """Return the ArxivId in `text`, or raise InvalidArxivId with a readable message."""
    if not isinstance(text, str):
        raise InvalidArxivId("Give an arXiv id such as 2401.01234 or an arxiv.org link.")
    cleaned = text.strip()
    if len(cleaned) > 300:
        raise InvalidArxivId("That is too long to be an arXiv id or link.")
    cleaned = URL_PREFIX.sub("", cleaned)
    cleaned = re.sub(r"^arxiv:\s*", "", cleaned, flags=re.IGNORECASE)
    cleaned = cleaned.split("?")[0].split("#")[0].rstrip("/")
    cleaned = re.sub(r"\.(pdf|md)$", "", cleaned, flags=re.IGNORECASE)
    match = ID_PATTERN.match(cleaned)
    if not match:
        raise InvalidArxivId(
            f"“{text.strip()[:80]}” is not an arXiv id. "
            "Use an id such as 2401.01234 or hep-th/9901001, or an arxiv.org link."
        )
    base = match["new"] or match["old"]
    month = int(base.split("/")[-1][2:4])
    if not 1 <= month <= 12:
        raise InvalidArxivId(f"“{base}” is not an arXiv id: {month:02d} is not a month.")
    version = int(match["version"]) if match["version"] else None
    if version == 0:
        raise InvalidArxivId("arXiv versions start at v1.")
    return ArxivId(base=base, version=version)


def split_versioned(text):
    """'2401.01234v3' -> ('2401.01234', 3); for ingest of ids that arXiv itself wrote."""
    parsed = parse_arxiv_id(text)
    return parsed.base, parsed.version
