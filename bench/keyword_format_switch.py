"""Keyword search across a change of the tantivy index format (docs/search.md, "Keeping the
indexes in sync"): 100 random visible papers' titles as queries (found in the first 10?)
before the upgrade, after each chunk of the refill is committed, and after the switch.

Runs on a copy of a site with a tantivy index (DAILYPAPERS_DATA_DIR; not a live site: it
deletes the queue's keyword refill tasks), in one process: SCHEMA_VERSION is raised in the
process, the refill queued as `serve` queues it, and its chunks run one after the other as
the worker would. `--no-pointer` removes the new index's pointer file at once, so that
searches read the new index alone while it fills (the anchor). The new index's directory is
deleted at the end, so that the next run starts over.

    DAILYPAPERS_DATA_DIR=/tmp/site DAILYPAPERS_EMBEDDER=none \\
        .venv/bin/python bench/keyword_format_switch.py [--no-pointer] [--queries 100]
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def measure(label, papers):
    from dailypapers.search import keyword, search_papers

    found, took = 0, []
    for paper in papers:
        start = time.perf_counter()
        results = search_papers(paper.title, limit=10, mode="keyword")
        took.append((time.perf_counter() - start) * 1000)
        found += paper.pk in {p.pk for p in results.papers}
    serving = keyword.serving_index().path.name
    print(f"| {label} | {serving} | {keyword.get_index().count():,} | {found}/{len(papers)} "
          f"| {statistics.median(took):.1f} |", flush=True)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pointer", action="store_true", help="the new index answers alone")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult

    from dailypapers.papers.models import Paper
    from dailypapers.search import keyword
    from dailypapers.search.tasks import fill_empty_keyword_index

    ids = list(Paper.objects.visible().values_list("pk", flat=True))
    papers = list(Paper.objects.filter(pk__in=random.Random(7).sample(ids, args.queries)))
    print("| phase | index searched | documents in the current index | found in the first 10 "
          "| p50 ms |\n|---|---|---|---|---|")  # fmt: skip
    measure("before the upgrade", papers)
    keyword.SCHEMA_VERSION += 1  # the release's new format
    new = keyword.get_index()
    if args.no_pointer:
        (new.path / keyword.BUILDING).unlink(missing_ok=True)
    refills = DBTaskResult.objects.filter(task_path__endswith="index_keywords_task")
    refills.delete()
    queued = fill_empty_keyword_index()
    chunks = list(refills.order_by("enqueued_at"))
    measure(f"upgraded, {queued:,} papers queued in {len(chunks)} chunks", papers)
    try:
        for n, chunk in enumerate(chunks, 1):
            start = time.perf_counter()
            chunk.task.call(*chunk.args_kwargs["args"])
            chunk.delete()
            measure(f"chunk {n} committed ({time.perf_counter() - start:.0f} s)", papers)
    finally:
        shutil.rmtree(new.path)


if __name__ == "__main__":
    main()
