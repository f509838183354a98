"""Atom 1.0 and RSS 2.0 feeds of the pages that list papers (Django's syndication framework).

Every feed is one subclass of PaperFeed (which papers, and the title); `.rss` variants are
the same class with the RSS generator. Entries have a stable id (the paper's page URL),
the abstract, the authors (a collaboration's first FEED_AUTHORS, "and 3,283 more"), links
to the paper page and arXiv, categories, and the time the paper was featured (published)
and last changed (updated).
"""

import datetime as dt
import io
from urllib.parse import quote

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape

from dailypapers.api import queries
from dailypapers.papers import selectors
from dailypapers.papers.models import Paper
from dailypapers.papers.tex import tex_plain

FEED_SIZE = 50
# Feed readers fetch a feed every hour: a collaboration's thousands of names, written out
# in the summary and again as <author>s, made one entry 190 kB (2507.06261, 3,303 authors).
FEED_AUTHORS = 20


class WrittenAtOnce:
    """Build the document in memory and hand the response one string.

    The XML writer writes each tag and text separately; an HttpResponse encodes and keeps
    every one of those writes, a third of what a feed cost to make.
    """

    def write(self, outfile, encoding):
        if isinstance(outfile, io.StringIO):
            return super().write(outfile, encoding)
        outfile.write(self.writeString(encoding))


class PaperAtomFeed(WrittenAtOnce, Atom1Feed):
    """Atom with one <author> per paper author and a rel="related" link to arXiv."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "author_name": None})
        for name in item.get("authors", []):
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        handler.addQuickElement(
            "link", "", {"rel": "related", "href": item["arxiv_url"], "title": "arXiv"}
        )


class PaperRssFeed(WrittenAtOnce, Rss201rev2Feed):
    pass


class PaperFeed(Feed):
    """Items are (paper, featured_at) pairs: featured_at is the daily entry's time, if any."""

    feed_type = PaperAtomFeed
    description_template = None

    def link(self, obj):
        return obj["page"]

    def title(self, obj):
        return f"{settings.SITE_NAME}: {obj['title']}"

    def description(self, obj):
        return obj.get("description") or obj["title"]

    def subtitle(self, obj):
        return self.description(obj)

    def items(self, obj):
        return obj["items"]

    def item_title(self, item):
        return tex_plain(item[0].title)  # a feed reader shows text: no KaTeX there

    def item_link(self, item):
        return item[0].get_absolute_url()

    def item_guid(self, item):
        # The page URL never changes for a paper: readers de-duplicate on it.
        return settings.SITE_URL + item[0].get_absolute_url()

    item_guid_is_permalink = True

    def item_description(self, item):
        paper = item[0]
        authors = escape(_byline(paper.author_names))
        return (
            f"<p><em>{authors}</em></p><p>{escape(tex_plain(paper.abstract))}</p>"
            f'<p>▲ {paper.upvotes} · <a href="{paper.arxiv_url}">arXiv:{paper.arxiv_id}</a>'
            f' · <a href="{paper.pdf_url}">PDF</a></p>'
        )

    def item_author_name(self, item):
        return _byline(item[0].author_names) or None

    def item_pubdate(self, item):
        return item[1] or item[0].published_at

    def item_updateddate(self, item):
        paper, featured_at = item
        times = [paper.modified_at, paper.updated_at, featured_at, paper.published_at]
        return max(time for time in times if time is not None)

    def item_categories(self, item):
        return item[0].categories or []

    def item_extra_kwargs(self, item):
        return {"authors": item[0].author_names[:FEED_AUTHORS], "arxiv_url": item[0].arxiv_url}


def _byline(names):
    """'A, B, C' or, for a collaboration, its first FEED_AUTHORS names 'and 3,283 more'."""
    if len(names) <= FEED_AUTHORS:
        return ", ".join(names)
    return f"{', '.join(names[:FEED_AUTHORS])} and {len(names) - FEED_AUTHORS:,} more"


def _entries(first_day, last_day, sort="upvotes"):
    entries = selectors.entries_page(
        first_day=first_day, last_day=last_day, sort=sort, limit=FEED_SIZE
    )
    return [(entry.paper, entry.submitted_at) for entry in entries]


def _bad(message):
    """No such feed: a 404 whose body is `message`, as a sentence (feeds/urls.py)."""
    raise Http404(message[:1].upper() + message[1:].rstrip(".") + ".")


class DailyFeed(PaperFeed):
    """The daily page: the latest day with papers, or the day in the URL."""

    def get_object(self, request, date=None):
        if date is None:
            day = selectors.latest_day_with_papers() or dt.date.today()
            page, title = "/", "today's papers"
        else:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                _bad(f"{date} is not a day of the calendar.")
            page, title = f"/papers/date/{day}", f"papers of {day:%A %d %B %Y}"
        return {"page": page, "title": title, "items": _entries(day, day)}


class WeekFeed(PaperFeed):
    def get_object(self, request, week):
        try:
            first, last = selectors.iso_week_bounds(int(week[:4]), int(week[6:]))
        except ValueError as exc:
            _bad(str(exc))
        return {
            "page": f"/papers/week/{week}",
            "title": f"papers of the week {week}",
            "items": _entries(first, last),
        }


class MonthFeed(PaperFeed):
    def get_object(self, request, month):
        try:
            first, last = selectors.month_bounds(int(month[:4]), int(month[5:]))
        except ValueError as exc:
            _bad(str(exc))
        return {
            "page": f"/papers/month/{month}",
            "title": f"papers of {first:%B %Y}",
            "items": _entries(first, last),
        }


class TrendingFeed(PaperFeed):
    def get_object(self, request):
        entries = queries.trending(offset=0, limit=FEED_SIZE)
        items = [(entry.paper, entry.submitted_at) for entry in entries]
        return {
            "page": "/papers/trending",
            "title": "trending papers",
            "description": "Papers by trending score: log10(upvotes) plus days since featured.",
            "items": items,
        }


def _searched(query):
    papers, _ = queries.search(query, limit=FEED_SIZE)
    return [(paper, None) for paper in papers]


class SearchFeed(PaperFeed):
    def get_object(self, request):
        query = request.GET.get("q", "").strip()
        if not query or len(query) > 500 or any(ord(char) < 32 for char in query):
            _bad("Give a search query as ?q=, for example /feeds/search.atom?q=diffusion.")
        return {
            "page": f"/search?q={quote(query)}",
            "title": f"search “{query}”",
            "items": _searched(query),
        }


def _holding_every_word(topic):
    """The papers a followed topic's digest section would pick: those that hold every word
    of the topic (search_papers(every_word=True), the digest's rule), best matches kept."""
    from dailypapers.search import search_papers

    papers = search_papers(topic, limit=FEED_SIZE, sort="relevance", every_word=True).papers
    return [(paper, None) for paper in papers]


class TopicFeed(PaperFeed):
    """A followed topic: the papers that hold every word of it, as its digest section picks
    them, newest first."""

    def get_object(self, request, topic):
        topic = " ".join(topic.split())
        if not topic or len(topic) > 200 or any(ord(char) < 32 for char in topic):
            _bad("Give a topic of up to 200 characters, for example /feeds/topic/diffusion.atom.")
        items = _holding_every_word(topic)
        items.sort(key=lambda item: item[0].published_at, reverse=True)
        return {"page": f"/search?q={quote(topic)}", "title": f"topic “{topic}”", "items": items}


class AuthorFeed(PaperFeed):
    """An author's papers, every spelling a moderator merged included, as a follow of the
    name reads them; the feed links to the author's page."""

    def get_object(self, request, name):
        from dailypapers.people.selectors import author_page_of, same_author_names

        papers = (
            Paper.objects.visible()
            .filter(author_set__name__in=same_author_names(name))
            .distinct()
            .select_related("organization")
            .order_by("-published_at")[:FEED_SIZE]
        )
        page = author_page_of(name) or f"/search?q={quote(_field_query('au', name))}"
        return {
            "page": page,
            "title": f"papers by {name}",
            "items": [(paper, None) for paper in papers],
        }


class CategoryFeed(PaperFeed):
    def get_object(self, request, category):
        papers = (
            Paper.objects.visible()
            .filter(primary_category=category)
            .select_related("organization")
            .order_by("-published_at")[:FEED_SIZE]
        )
        return {
            "page": f"/search?q={quote(_field_query('cat', category))}",
            "title": f"new in {category}",
            "items": [(paper, None) for paper in papers],
        }


def _field_query(field, value):
    """The search that finds what a feed lists: au:"Ada Lovelace", cat:cs.CL."""
    return f'{field}:"{value}"' if " " in value else f"{field}:{value}"


def rss(feed_class):
    """The RSS 2.0 twin of an Atom feed class."""
    return type(f"{feed_class.__name__}Rss", (feed_class,), {"feed_type": PaperRssFeed})
