"""What counting the papers that match every word costs a search (docs/search.md, "Counts").

Runs on an existing site (DAILYPAPERS_DATA_DIR, and DATABASE_URL for PostgreSQL): build one
with the ingest commands (docs/ingest.md) from ../shared/data. The queries: the 29 topics of
bench/search_quality.py, 21 known-item queries (a Hugging Face paper's `ai_keywords`) and a
few names and phrases. Each query runs through `search_papers` with the count ("after") and
without it ("before": the keyword engine's total, as the page said before), alternately, in
the same process, after a warming pass; and the count alone (`count_every_word`).

    DAILYPAPERS_DATA_DIR=/tmp/site .venv/bin/python bench/match_count.py [--rounds 3]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

EXTRA = [
    "diffusion language models",
    "LLaDA 2.0",
    "Qwen3 technical report",
    "tool-use agents",
    '"world model" robot',
    "ti:mixture au:liu",
    "wei liu",
    "large language models",
]


def queries():
    import search_quality as quality

    keyword_queries, _ = quality.make_queries(21, 0)
    topics = quality.TOPICS + quality.HELD_OUT_TOPICS + quality.NAMED_TOPICS
    topics += quality.PARAPHRASED_TOPICS
    return [t[0] for t in topics] + [q for q, _ in keyword_queries] + EXTRA


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", default="auto", help="auto (hybrid) or keyword")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.db import connection

    from dailypapers.search import acronyms, keyword, search_papers, selectors
    from dailypapers.search.query import parse

    real = selectors._matches

    def before(parsed, filters, *, pool, sort, need, every_word, enough):
        """The search as it was: the keyword engine's total, and no count."""
        hits, total = keyword.get_index().search(
            parsed, filters, limit=pool, sort=sort, enough=enough, page=max(need, selectors.PAGE)
        )
        return hits, total, total

    texts = queries()
    engine = keyword.get_index()
    print(
        f"{len(texts)} queries; engine {type(engine).__name__} on {connection.vendor}; "
        f"{engine.count()} documents; mode {args.mode}; load {os.getloadavg()[0]:.1f}"
    )
    timings = {"before": [], "after": []}
    counts = []
    for text in texts:  # warm both paths
        selectors._matches = before
        search_papers(text, mode=args.mode)
        selectors._matches = real
        result = search_papers(text, mode=args.mode)
        counts.append((text, result.total - result.by_meaning, result.matches))
    for round_ in range(args.rounds):
        for i, text in enumerate(texts):
            order = ("before", "after") if (i + round_) % 2 == 0 else ("after", "before")
            for name in order:
                selectors._matches = before if name == "before" else real
                start = time.perf_counter()
                search_papers(text, mode=args.mode)
                timings[name].append((time.perf_counter() - start) * 1000)
    selectors._matches = real
    alone = []
    for _ in range(args.rounds):
        for text in texts:
            parsed = acronyms.expand(parse(text))
            start = time.perf_counter()
            engine.count_every_word(parsed, keyword.Filters())
            alone.append((time.perf_counter() - start) * 1000)
    for name, samples in [*timings.items(), ("count alone", alone)]:
        print(
            f"{name:<12} p50 {statistics.median(samples):7.1f} ms  "
            f"p95 {percentile(samples, 0.95):7.1f} ms  ({len(samples)} searches)"
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    print("\nquery: keyword matches (what the page said) -> every word")
    for text, matches, every in counts:
        print(f"  {text[:60]:<60} {matches:>6} -> {every}")


if __name__ == "__main__":
    main()
