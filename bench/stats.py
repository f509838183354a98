"""Benchmark: /stats on the real data, in-process, beside the daily page in the same run.

    .venv/bin/python bench/stats.py [--data DIR] [--keep DIR] [--repeat 15]

Uses (or builds, as bench/pages.py does) a SQLite site in --keep DIR (default
/tmp/dp-stats-bench) from ../shared/data: every Hugging Face daily day and the 74,728 arXiv
listing records, ~80k papers. Then times, with Django's test client in one process:
  - anchor: the daily page `/` rendered afresh (the page cache cleared before each request);
  - /stats computed afresh (its cache cleared before each request): every query of the page;
  - /stats from its cache (the site's generation unchanged);
  - each query of /stats alone.
Prints medians in ms and the ratio to the anchor, with the load average.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/dp-stats-bench"))
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(options.keep)}
    env.pop("DATABASE_URL", None)
    import pages  # bench/pages.py: the same build

    pages.build(options, env)
    os.environ.update(DAILYPAPERS_DATA_DIR=str(options.keep))
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # this checkout's indexes (paper_created)
    measure(options.repeat)


def measure(repeat):
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from dailypapers.papers.models import DailyEntry, Paper
    from dailypapers.stats import selectors

    client = Client(HTTP_HOST="127.0.0.1")
    print(f"{Paper.objects.count():,} papers, {DailyEntry.objects.count():,} daily entries; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    def page(path, *, fresh):
        def run():
            if fresh:
                cache.clear()
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return run

    today = timezone.localdate()
    rows = [
        ("anchor: daily page /, afresh", page("/", fresh=True)),
        ("/stats, afresh", page("/stats", fresh=True)),
        ("/stats, from its cache", page("/stats", fresh=False)),
        ("  totals", selectors.totals),
        ("  new on arXiv per day", lambda: selectors.papers_per_day("published_at", today=today)),
        ("  ingested per day", lambda: selectors.papers_per_day("created_at", today=today)),
        ("  entries and upvotes per week", selectors.entries_per_week),
        ("  top categories", selectors.top_categories),
        ("  busiest authors", selectors.busiest_authors),
        ("  busiest organisations", selectors.busiest_organizations),
    ]
    anchor = None
    print(f"{'':<34} {'median ms':>10} {'x anchor':>9}")
    for label, run in rows:
        run()  # warm: imports, templates, SQLite pages
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        anchor = anchor or median
        print(f"{label:<34} {median:>10.1f} {median / anchor:>8.2f}x")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
