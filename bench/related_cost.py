"""What a first-seen paper's related papers cost, stage by stage, on an existing data dir.

Random papers (seeded); for each: the keyword query-by-document (60 candidates), fusion
and the phrase stage, the reasons of the top 20, then the whole uncached ranking
(selectors._related_ranking, as the API's first call for a paper). Read-only.

    DAILYPAPERS_DATA_DIR=DIR .venv/bin/python bench/related_cost.py [--papers 40]
"""

import argparse
import os
import random
import statistics
import time

import django


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    django.setup()
    from dailypapers.papers.models import Paper
    from dailypapers.search import related, selectors

    pks = list(Paper.objects.values_list("pk", flat=True))
    print(f"{len(pks):,} papers")
    related.corpus_sample()  # drawn as the process starts (wsgi.py)
    times = {"keywords": [], "fuse+phrases": [], "reasons (20)": [], "uncached ranking": []}
    for pk in random.Random(7).sample(pks, min(args.papers, len(pks))):
        paper = Paper.objects.get(pk=pk)
        start = time.perf_counter()
        by_text = related.by_keywords(paper, related.POOL_BY_TEXT)
        keywords = time.perf_counter()
        ranked = related.by_phrases(paper, related.fuse(by_text, []))
        phrases = time.perf_counter()
        for other in Paper.objects.filter(pk__in=ranked[:20]):
            related.reason(paper, other)
        reasons = time.perf_counter()
        selectors._related_ranking(paper, 20, None)
        end = time.perf_counter()
        for name, seconds in zip(
            times,
            (keywords - start, phrases - keywords, reasons - phrases, end - reasons),
            strict=True,
        ):
            times[name].append(seconds)
    for name, values in times.items():
        p50, worst = statistics.median(values) * 1000, max(values) * 1000
        print(f"{name:18s} p50 {p50:7.1f} ms  max {worst:7.1f} ms")


if __name__ == "__main__":
    main()
