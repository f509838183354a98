"""GET /api/suggestions?date=YYYY-MM-DD&limit=N: a day's suggested papers, best first, in
the daily-papers JSON shape plus `reason` and `suggestionScore` (docs/curation.md)."""

import datetime as dt

from ninja import Field, Query, Router

from dailypapers.api import hf_format
from dailypapers.api.http import error, json_response
from dailypapers.api.params import DATE
from dailypapers.api.schemas import DailyEntryOut, ErrorOut

from . import services

router = Router(tags=["suggestions"], by_alias=True)


class SuggestionOut(DailyEntryOut):
    reason: str = Field(description="why it is suggested, for people")
    suggestionScore: float = Field(description="the model's probability of a feature")


@router.get(
    "/suggestions", response={200: list[SuggestionOut], 400: ErrorOut, 429: ErrorOut, 409: ErrorOut}
)
def suggestions(
    request,
    date: str = Query(..., pattern=DATE, description="YYYY-MM-DD"),
    limit: int = Query(20, ge=1, le=100),
):
    """The candidates of day `date` the community would likely feature, using only what was
    known before that day."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return error(400, f"{date!r} is not a date", field="date")
    try:
        ranked = services.suggest(day, limit)
    except services.CurationError as exc:
        return error(409, str(exc))  # no model yet: the site is fine, train one
    return json_response([suggestion_json(s) for s in ranked])


def suggestion_json(suggestion):
    data = hf_format.hf_search_hit(suggestion.paper)
    data["reason"] = suggestion.reason
    data["suggestionScore"] = round(suggestion.score, 4)
    return data
