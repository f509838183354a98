import gc
import logging
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
application = get_wsgi_application()

# Import every view (and what they import: scikit-learn, numpy, tantivy) as the server
# process starts, not on its first request: that request took 4 s.
get_resolver().resolve("/")


def _open_search():
    """Open the search engines (vector snapshot, embedder, keyword reader) with one query,
    and draw related papers' sample of phrase frequencies.

    Otherwise the first search of each server process pays for it (1.8 s at 80k papers),
    and its first paper page for the sample (0.6 s). A site that cannot search yet (no
    tables, no index) still starts; the log says why.
    """
    from dailypapers.search import search_papers
    from dailypapers.search.related import corpus_sample

    try:
        search_papers("language models", limit=1)
        corpus_sample()
    except Exception:
        logging.getLogger(__name__).warning("search not opened at start", exc_info=True)


_open_search()

# What the start loaded (about 190,000 objects) lives as long as the process: keep it out of
# the collector's full passes, which otherwise stopped one request in ~50 for 100 ms.
gc.freeze()
