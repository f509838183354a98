"""Replay past days through the service: does `/api/suggestions` pick what the community did?

    .venv/bin/python bench/curation_replay.py [--data DIR] [--keep DIR] [--cutoff 2025-10-01]

The end-to-end form of bench/curation_quality.py (which back-tests the recipe on the files):
a site (kept in --keep DIR, default /tmp/dp-curation-replay) ingests the Hugging Face daily
days and the arXiv listings of ../shared/data with `dailypapers ingest`, as an operator
would; `dailypapers feature train --until CUTOFF` learns from the days before the cut-off;
then every later day D with daily entries is asked for through `GET
/api/suggestions?date=D&limit=K`. The positives of D are its daily entries among D's
candidates (what the service can suggest). Prints recall@K and upvote-weighted recall@K
averaged over the days, beside random picks from the same candidates (the anchor).
"""

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)

CLI = [sys.executable, "-m", "dailypapers"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/dp-curation-replay"))
    parser.add_argument("--cutoff", type=dt.date.fromisoformat, default=dt.date(2025, 10, 1))
    parser.add_argument("--k", type=int, default=20)
    options = parser.parse_args()
    os.environ["DAILYPAPERS_DATA_DIR"] = str(options.keep)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DAILYPAPERS_API_RATE_ANON"] = "1000000"  # one client asks for every day
    build(options)
    train(options)
    replay(options)


def build(options):
    if (options.keep / "ready").exists():
        return
    data = real_data.require(options.data, real_data.LISTINGS, real_data.HF_DAYS)
    options.keep.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([*CLI, "migrate", "-v", "0"], check=True)
    for source, path in (("hf-daily", real_data.HF_DAYS), ("listings", real_data.LISTINGS)):
        subprocess.run([*CLI, "ingest", source, str(data / path), "--no-index"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    (options.keep / "ready").write_text("")
    print(f"built the site in {options.keep} in {time.perf_counter() - started:.0f} s")


def train(options):
    started = time.perf_counter()
    subprocess.run([*CLI, "feature", "train", "--until", str(options.cutoff), "--no-progress"],
                   check=True)  # fmt: skip
    print(f"feature train --until {options.cutoff}: {time.perf_counter() - started:.0f} s "
          f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip


def replay(options):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    django.setup()
    from django.conf import settings
    from django.test import Client

    from dailypapers.curation.services import candidates
    from dailypapers.papers.models import DailyEntry

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    days = DailyEntry.objects.filter(day__gte=options.cutoff).dates("day", "day")
    ours, anchor, pools, seconds = [], [], [], []
    chance = random.Random(0)
    for day in days:
        pool = dict(candidates(day).values_list("arxiv_id", "imported_upvotes"))
        picked = set(DailyEntry.objects.filter(day=day).values_list("paper__arxiv_id", flat=True))
        positives = {arxiv_id: pool[arxiv_id] + 1 for arxiv_id in picked if arxiv_id in pool}
        if not positives:
            continue
        started = time.perf_counter()
        answer = client.get("/api/suggestions", {"date": str(day), "limit": options.k})
        seconds.append(time.perf_counter() - started)
        if answer.status_code != 200:
            sys.exit(f"/api/suggestions?date={day}: {answer.status_code} {answer.content[:200]}")
        ranked = [row["paper"]["id"] for row in answer.json()]
        ours.append(recalls(ranked, positives))
        anchor.append(recalls(chance.sample(sorted(pool), min(options.k, len(pool))), positives))
        pools.append(len(pool))
    report(options, ours, anchor, pools, seconds)


def recalls(ranked, positives):
    """(recall, upvote-weighted recall) of the first K ranked ids."""
    hits = [arxiv_id for arxiv_id in ranked if arxiv_id in positives]
    weight = sum(positives.values())
    return len(hits) / len(positives), sum(positives[h] for h in hits) / weight


def report(options, ours, anchor, pools, seconds):
    if not ours:
        sys.exit(f"no day on or after {options.cutoff} has entries among its candidates")
    print(f"\n{len(ours)} days replayed from {options.cutoff}; median pool "
          f"{statistics.median(pools):.0f} papers; /api/suggestions median "
          f"{statistics.median(seconds) * 1000:.0f} ms")  # fmt: skip
    print(f"{'system':<40} {'recall@' + str(options.k):>10} {'weighted':>10}")
    for label, rows in (("random picks of the candidates", anchor),
                        ("/api/suggestions (the service)", ours)):  # fmt: skip
        recall = statistics.mean(r for r, _ in rows)
        weighted = statistics.mean(w for _, w in rows)
        print(f"{label:<40} {recall:>10.3f} {weighted:>10.3f}")


if __name__ == "__main__":
    main()
