"""Benchmark: a paper page with a long discussion, against the same page with none.

    .venv/bin/python bench/discussion.py [--comments 300] [--requests 40]

Builds a temporary SQLite database with two papers: one with no comments (the anchor) and
one with --comments threaded comments (a third top-level, the rest replies at any depth,
up to 6 levels shown), each a paragraph of a real abstract from the bundled sample (Markdown
with math and a mention), and votes on half of them. Then renders both paper pages with
Django's test Client (server-side time: middleware, view, template; no HTTP), always
missing the page cache, in alternating rounds, as a reader and as a signed-in member (who
gets the reply, edit, report and vote forms). It prints the median and p90 time of each and
the ratio to the anchor measured in the same run, and the cost of writing one comment
(Markdown + sanitiser, done once per comment, never per view).
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "src" / "dailypapers" / "sample"


def abstracts():
    texts = []
    for path in sorted(SAMPLE.glob("hf-daily-*.json")):
        texts += [item["paper"].get("summary", "") for item in json.loads(path.read_text())]
    return [" ".join(text.split()) for text in texts if text]


def setup_django(workdir):
    os.environ["DAILYPAPERS_DATA_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(count, texts):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dailypapers.community.markdown import render_comment
    from dailypapers.community.models import Comment, CommentVote
    from dailypapers.community.services import wilson_lower_bound
    from dailypapers.papers.models import Paper

    users = [
        get_user_model().objects.create_user(f"member{i}", f"m{i}@example.org", "x pass 1 y")
        for i in range(20)
    ]
    now = timezone.now()
    papers = [
        Paper.objects.create(
            arxiv_id=f"2611.{number:05d}", title=f"Paper {number}", abstract=texts[number],
            authors=[{"name": "Ada Lovelace"}], categories=["cs.CL"], primary_category="cs.CL",
            published_at=now,
        )
        for number in (1, 2)
    ]  # fmt: skip
    anchor, paper = papers
    random.seed(7)
    comments = []
    started = time.perf_counter()
    for number in range(count):
        text = random.choice(texts)[:600]
        body = f"@member{number % 20} {text} Is $O(n \\log n)$ **tight**?"
        parent = random.choice(comments) if comments and number % 3 else None
        html = render_comment(body, members=[f"member{number % 20}"])
        comments.append(
            Comment.objects.create(
                paper=paper, user=users[number % 20], parent=parent, body=body, body_html=html
            )
        )
    write_ms = (time.perf_counter() - started) * 1000 / count
    for comment in comments[::2]:
        voters = random.sample(users, 5)
        for voter in voters:
            CommentVote.objects.create(comment=comment, user=voter, value=random.choice([1, -1]))
        up = sum(1 for vote in comment.votes.all() if vote.value == 1)
        Comment.objects.filter(pk=comment.pk).update(
            upvotes=up, downvotes=5 - up, score=wilson_lower_bound(up, 5 - up)
        )
    Paper.objects.filter(pk=paper.pk).update(num_comments=count)
    return anchor, paper, users[0], write_ms


def time_pages(client, urls, requests, rounds=4):
    times = {url: [] for url in urls}
    counter = 0
    for url in urls:  # warm-up: templates, the embedder and vector index of related papers
        client.get(f"{url}?warm=1")
    for _ in range(rounds):
        for url in urls:
            for _ in range(requests // rounds):
                counter += 1
                started = time.perf_counter()
                response = client.get(f"{url}?r={counter}")  # a new address: a cache miss
                times[url].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=300)
    parser.add_argument("--requests", type=int, default=40, help="per page and viewer")
    args = parser.parse_args()
    if args.comments < 1 or args.requests < 4:
        sys.exit("discussion.py: --comments must be at least 1 and --requests at least 4")
    with tempfile.TemporaryDirectory(prefix="dp-discussion-bench-") as workdir:
        setup_django(workdir)
        from django.test import Client

        anchor, paper, member, write_ms = build(args.comments, abstracts())
        urls = [f"/papers/{anchor.arxiv_id}", f"/papers/{paper.arxiv_id}"]
        reader = Client(HTTP_HOST="127.0.0.1")
        signed_in = Client(HTTP_HOST="127.0.0.1")
        signed_in.force_login(member)
        print(f"{args.comments} comments; load average {os.getloadavg()[0]:.1f}")
        print(f"writing one comment (Markdown + nh3): {write_ms:.2f} ms")
        print(f"{'page':44} {'median ms':>10} {'p90 ms':>8} {'x anchor':>9}")
        for who, client in (("reader", reader), ("member", signed_in)):
            times = time_pages(client, urls, args.requests)
            base = statistics.median(times[urls[0]])
            for url, label in zip(
                urls, ("no comments (anchor)", f"{args.comments} comments"), strict=True
            ):
                median = statistics.median(times[url])
                p90 = statistics.quantiles(times[url], n=10)[-1]
                print(f"{who + ', ' + label:44} {median:10.1f} {p90:8.1f} {median / base:9.2f}")
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
