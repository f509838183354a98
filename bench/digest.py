"""Benchmark: one day of personalised digests to 10,000 subscribers over SMTP.

    .venv/bin/python bench/digest.py [--subscribers 10000] [--day 2025-12-30]

Builds a temporary SQLite database (file, WAL) with one real day of papers: the Hugging
Face daily papers of that day (featured, with their upvotes) and the arXiv listing records
first listed that day (new papers for the topic alerts). Adds N confirmed daily
subscribers, each following 0-4 things drawn from real topics, the day's authors and arXiv
categories. A local aiosmtpd server in a child process counts what it receives.

Then, in the same run:
  1. ours: `digest_send()` (plan, claim → compose → send → mark), with --workers SMTP
     connections (threads; default as DAILYPAPERS_DIGEST_WORKERS: 3);
  2. the baseline: plain smtplib over one connection sending the same number of
     already-built messages of the same size (the transport alone: no database, no
     composing).
Prints mails/s, total time, peak memory (max RSS), the split between composing, sending
and the rest (database: claims, marks, sent-paper records), and the ratio to smtplib.
Target: all 10,000 in under 60 s.
"""

import argparse
import asyncio
import datetime as dt
import gzip
import json
import multiprocessing
import os
import random
import resource
import shutil
import smtplib
import socket
import sys
import tempfile
import time
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option

REPO = Path(__file__).resolve().parent.parent
DATA = real_data.DEFAULT  # --data DIR changes it
TOPICS = [
    "diffusion models",
    "large language model reasoning",
    "reinforcement learning from human feedback",
    "mixture of experts",
    "vision language models",
    "retrieval augmented generation",
    "text to video",
    "speech recognition",
    "code generation",
    "agents tool use",
    "image editing",
    "3d reconstruction",
    "gaussian splatting",
    "quantization",
    "long context",
    "multimodal benchmark",
    "robot manipulation",
    "world models",
    "video understanding",
    "chain of thought",
    "knowledge distillation",
    "hallucination",
    "medical imaging",
    "graph neural networks",
    "time series forecasting",
    "federated learning",
    "autonomous driving",
    "protein design",
    "math reasoning",
    "preference optimization",
]
CATEGORIES = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.RO", "cs.IR", "stat.ML", "eess.AS"]


# --- SMTP sink in a child process (no GIL contention with the sender) ------------------


def sink_main(port, count, size, ready):
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
                size.value += len(envelope.content)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(3600))
    finally:
        controller.stop()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Data -------------------------------------------------------------------------------


def load_day(day):
    from django.utils import timezone

    from dailypapers.papers.models import Author, DailyEntry, Paper, PaperAuthor
    from dailypapers.papers.services import paper_refresh_trending

    hf = json.loads((DATA / "hf-daily-papers" / f"{day}.json").read_text())
    noon = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    records = {}
    with gzip.open(DATA / "arxiv-listings-2025-03_2026-07.jsonl.gz", "rt") as lines:
        for line in lines:
            record = json.loads(line)
            if record["listed"] == day:
                records[record["id"]] = {
                    "arxiv_id": record["id"],
                    "title": " ".join(record["title"].split()),
                    "abstract": " ".join(record["summary"].split()),
                    "authors": [{"name": name} for name in record["authors"]],
                    "categories": record["categories"],
                    "primary_category": record["categories"][0],
                    "published_at": noon - dt.timedelta(days=1),
                }
    for item in hf:
        paper = item["paper"]
        records[paper["id"]] = {
            **records.get(paper["id"], {"categories": [], "primary_category": ""}),
            "arxiv_id": paper["id"],
            "title": " ".join(paper["title"].split()),
            "abstract": " ".join(paper.get("summary", "").split()),
            "authors": [{"name": a["name"]} for a in paper["authors"]],
            "published_at": dt.datetime.fromisoformat(paper["publishedAt"]),
            "imported_upvotes": paper.get("upvotes", 0),
            "github_repo": paper.get("githubRepo") or "",
        }
    papers = Paper.objects.bulk_create([Paper(**fields) for fields in records.values()])
    names = {a["name"] for p in papers for a in p.authors}
    Author.objects.bulk_create([Author(name=n) for n in names], ignore_conflicts=True)
    author_ids = dict(Author.objects.values_list("name", "pk"))
    links = {}
    for paper in papers:
        for position, author in enumerate(paper.authors):
            links[(paper.pk, position)] = PaperAuthor(
                paper=paper, author_id=author_ids[author["name"]], position=position
            )
    PaperAuthor.objects.bulk_create(links.values(), batch_size=1000)
    by_id = {paper.arxiv_id: paper for paper in papers}
    featured = [by_id[item["paper"]["id"]] for item in hf]
    DailyEntry.objects.bulk_create(
        [
            DailyEntry(
                paper=p,
                day=dt.date.fromisoformat(day),
                submitted_at=timezone.now(),
                source=DailyEntry.Source.IMPORT,
            )
            for p in featured
        ]
    )
    for paper in featured:
        paper_refresh_trending(paper=paper)
    return papers, featured


def make_subscribers(count, papers, seed=7):
    from dailypapers.digests.models import Follow, Subscription

    rng = random.Random(seed)
    authors = sorted({a["name"] for p in papers for a in p.authors[:3]})
    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(email=f"reader{n:05d}@example.org", status="active", frequency="daily")
            for n in range(count)
        ],
        batch_size=1000,
    )
    follows = []
    for subscription in subscriptions:
        chosen = set()
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            kind = rng.choice(["topic", "topic", "author", "category"])
            pool = {"topic": TOPICS, "author": authors, "category": CATEGORIES}[kind]
            chosen.add((kind, rng.choice(pool)))
        follows += [Follow(subscription=subscription, kind=k, value=v) for k, v in chosen]
    Follow.objects.bulk_create(follows, batch_size=1000)
    return len(follows)


# --- Runs -------------------------------------------------------------------------------


def run_ours(day, workers):
    from dailypapers.digests.sending import digest_send

    started = time.perf_counter()
    report = digest_send(today=dt.date.fromisoformat(day), workers=workers or None)
    elapsed = time.perf_counter() - started
    return report, elapsed


def run_smtplib(port, messages, count):
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n in range(count):
            raw, options = messages[n % len(messages)]
            to = [f"reader{n:05d}@example.org"]
            smtp.sendmail("digest@example.org", to, raw, mail_options=options)
    return time.perf_counter() - started


def sample_messages(day, count=200):
    """Real composed digests of the first subscribers, for the baseline: (bytes, MAIL
    options) in the form ours sends to this sink (8bit parts, as it offers 8BITMIME)."""
    from dailypapers.digests import services
    from dailypapers.digests.content import PeriodContent, daily_period
    from dailypapers.digests.emails import DigestComposer
    from dailypapers.digests.models import Subscription

    period = daily_period(dt.date.fromisoformat(day))
    content = PeriodContent(period)
    composer = DigestComposer(period_label=period.label, kind="daily")
    out = []
    for subscription in Subscription.objects.prefetch_related("follows")[:count]:
        sections = content.sections_for(subscription, subscription.follows.all(), set())
        composed = composer.compose(
            to=subscription.email,
            sections=sections,
            message_id=f"<b{subscription.pk}@x>",
            unsubscribe_url=services.unsubscribe_url(subscription),
            manage_url=services.manage_url(subscription),
            mailto="u@example.org",
        )
        if composed.raw_8bit is None:
            out.append((composed.raw, []))
        else:
            out.append((composed.raw_8bit, ["BODY=8BITMIME"]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--day", default="2025-12-30")
    parser.add_argument(
        "--workers", type=int, default=0, help="SMTP connections at once (0: the default)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", help="write a cProfile of our run to this file")
    real_data.add_option(parser)
    args = parser.parse_args()
    global DATA
    DATA = real_data.require(args.data, f"{real_data.HF_DAYS}/{args.day}.json", real_data.LISTINGS)

    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-digest-"))
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DAILYPAPERS_DATA_DIR=str(workdir),
        DAILYPAPERS_SEARCH_DIR=str(workdir / "search"),
        DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{port}",
        DAILYPAPERS_SITE_URL="https://papers.example.org",
        DAILYPAPERS_LOG_LEVEL="WARNING",
        DAILYPAPERS_DIGEST_TIME_ZONE="UTC",
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    ctx = multiprocessing.get_context("spawn")
    count, size, ready = ctx.Value("q", 0), ctx.Value("q", 0), ctx.Event()
    sink = ctx.Process(target=sink_main, args=(port, count, size, ready), daemon=True)
    sink.start()
    try:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        papers, featured = load_day(args.day)
        follows = make_subscribers(args.subscribers, papers)
        from dailypapers.search import index_papers

        index_papers([paper.pk for paper in papers])
        setup = time.perf_counter() - t0
        ready.wait(30)
        print(
            f"setup: {len(papers)} papers of {args.day} ({len(featured)} featured), "
            f"{args.subscribers} subscribers with {follows} follows, in {setup:.1f} s"
        )

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            report, elapsed = profiler.runcall(run_ours, args.day, args.workers)
            profiler.dump_stats(args.profile)
        else:
            report, elapsed = run_ours(args.day, args.workers)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        received, received_bytes = count.value, size.value
        mails = report.sent
        print(
            f"ours:     {mails} digests sent ({report.empty} empty) in {elapsed:.1f} s = "
            f"{mails / elapsed:.0f} mails/s; sink received {received}, "
            f"avg {received_bytes / max(received, 1) / 1024:.1f} KB"
        )
        busy = report.worker_seconds  # summed over the worker threads
        other = busy - report.compose_seconds - report.send_seconds
        print(
            f"          {args.workers or 'default'} worker(s); of their time: composing "
            f"{report.compose_seconds:.1f} s ({report.compose_seconds / busy:.0%}), "
            f"sending {report.send_seconds:.1f} s ({report.send_seconds / busy:.0%}), "
            f"database and the rest {other:.1f} s ({other / busy:.0%})"
        )
        print(
            f"          peak memory (max RSS) {rss_after:.0f} MB (before the run: {rss_before:.0f})"
        )

        messages = sample_messages(args.day)
        baseline = run_smtplib(port, messages, mails)
        print(
            f"smtplib:  {mails} prebuilt messages over one connection in {baseline:.1f} s = "
            f"{mails / baseline:.0f} mails/s"
        )
        print(
            f"ratio:    ours at {baseline / elapsed:.0%} of smtplib's rate; "
            f"projected for 10,000: {elapsed * 10_000 / max(mails, 1):.0f} s (target < 60 s)"
        )
    finally:
        sink.terminate()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
