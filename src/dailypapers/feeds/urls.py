"""Feed URLs: every feed as .atom and .rss (the pages link them with rel="alternate")."""

import hashlib
from functools import wraps

from django.http import Http404, HttpResponseNotFound
from django.urls import path, register_converter
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from . import feeds


class DayConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


class WeekConverter(DayConverter):
    regex = r"\d{4}-W\d{2}"


class MonthConverter(DayConverter):
    regex = r"\d{4}-\d{2}"


register_converter(DayConverter, "day")
register_converter(WeekConverter, "isoweek")
register_converter(MonthConverter, "month")


def conditional(view):
    """ETag (hash of the feed) and Last-Modified (newest entry): 304 when unchanged; a
    feed that cannot be (no such day) is a 404 with a plain-text sentence."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            # A feed reader shows the body it gets: a sentence, not the site's HTML page.
            return HttpResponseNotFound(f"{exc}\n", content_type="text/plain; charset=utf-8")
        if response.status_code != 200:
            return response
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=last_modified, response=response
        )
        response = not_modified or response
        response["ETag"] = etag
        response["Cache-Control"] = "public, max-age=300"
        return response

    return wrapped


def both(route, feed_class, name):
    """The Atom and RSS URLs of one feed."""
    return [
        path(f"{route}.atom", conditional(feed_class()), name=f"{name}-atom"),
        path(f"{route}.rss", conditional(feeds.rss(feed_class)()), name=f"{name}-rss"),
    ]


app_name = "feeds"
urlpatterns = [
    *both("daily", feeds.DailyFeed, "daily"),
    *both("date/<day:date>", feeds.DailyFeed, "date"),
    *both("trending", feeds.TrendingFeed, "trending"),
    *both("week/<isoweek:week>", feeds.WeekFeed, "week"),
    *both("month/<month:month>", feeds.MonthFeed, "month"),
    *both("search", feeds.SearchFeed, "search"),
    *both("topic/<str:topic>", feeds.TopicFeed, "topic"),
    *both("author/<str:name>", feeds.AuthorFeed, "author"),
    *both("category/<str:category>", feeds.CategoryFeed, "category"),
]
