"""The API's parameter formats, and refusals of bad parameters in sentences for people.

django-ninja validates parameters with pydantic, whose messages speak of the validator
("String should match pattern '^\\d{4}-\\d{2}-\\d{2}$'"). `explain` turns the first error
into what a caller can act on ("date must be YYYY-MM-DD, e.g. 2025-12-31, not 'foo'"),
for every endpoint (urls.py's handler), so `hf papers ls --date foo` prints a sentence.
"""

import re

DATE = r"^\d{4}-\d{2}-\d{2}$"
WEEK = r"^\d{4}-W\d{2}$"
MONTH = r"^\d{4}-\d{2}$"
USERNAME = r"^[\w.\-]{1,100}$"
CURSOR = r"^[A-Za-z0-9_\-]*$"
# Printable text only: NUL and other control characters are never a useful query, and
# PostgreSQL refuses NUL in text.
TEXT = r"^[^\x00-\x1f\x7f]*$"

# What each pattern asks for, said for people (every pattern in the API's schema is here:
# tests/api/test_validation.py checks it).
FORMATS = {
    DATE: "YYYY-MM-DD, e.g. 2025-12-31",
    WEEK: "an ISO week as YYYY-Www, e.g. 2025-W52",
    MONTH: "YYYY-MM, e.g. 2025-12",
    USERNAME: "a username: at most 100 letters, digits, '.', '_' or '-'",
    CURSOR: "a cursor this server gave out (the next page's URL is in the Link header)",
    TEXT: "printable text, without control characters",
}

# Where a value was read from: not part of the name a caller knows it by.
SOURCES = ("query", "path", "body", "payload", "form", "header", "cookie")

SHOWN_INPUT = 40  # a longer value is not repeated back
NUMBER = re.compile(r"-?\d{1,30}(\.\d{1,30})?")


def field_name(loc):
    names = [str(part) for part in loc if part not in SOURCES]
    return ".".join(names) or None


def explain(error, query=None):
    """(field, sentence) for one pydantic error of a request's parameters or body.

    `query`: the request's query parameters, to repeat a refused value (django-ninja
    leaves the value out of its errors)."""
    loc = tuple(error.get("loc", ()))
    field = field_name(loc)
    given = error.get("input")
    if query is not None and loc[:1] == ("query",) and field:
        given = query.get(field, given)
    name = field or ("The request body" if "body" in loc else "The request")
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return field, f"{name} is required"
    rule = _rule(kind, ctx)
    if rule is None:
        message = str(error.get("msg") or "is not valid")
        return field, f"{name} is not valid: {message[:1].lower()}{message[1:]}"
    return field, f"{name} must be {rule}{_not(given)}"


def _rule(kind, ctx):
    """What the value must be, or None for an error this API does not expect."""
    if kind == "string_pattern_mismatch":
        return FORMATS.get(str(ctx.get("pattern")), "in the format /api/docs describes")
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "given, not empty" if least == 1 else f"at least {least} characters long"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters long"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {ctx.get(key)}"
    if kind in ("literal_error", "enum"):
        return str(ctx.get("expected"))  # "'publishedAt' or 'trending'"
    simple = {
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "text",
        "list_type": "a list",
        "dict_type": "a JSON object",
        "model_type": "a JSON object",
        "model_attributes_type": "a JSON object",
    }
    return simple.get(kind)


def _not(given):
    """ ", not 'foo'": the value refused, when it is short enough to repeat."""
    if isinstance(given, bool) or not isinstance(given, str | int | float):
        return ""
    shown = str(given) if NUMBER.fullmatch(str(given)) else repr(given)
    return f", not {shown}" if len(shown) <= SHOWN_INPUT else ""
