"""What bench/load.py asks of the database before and after the load, in a process with
the topology's settings:

    python bench/locust/site.py plan USERS PER_MEMBER   # prints the users' plan (JSON)
    python bench/locust/site.py check-and-clean PLAN    # vote counts == vote rows; undo

The plan: recent days with featured papers, papers to read and vote on, search queries
made from their titles, and members (load-NNN) with API tokens and papers to submit.
Afterwards the members' votes are retracted and their submissions and accounts removed, so
that a shared database is left as it was found.
"""

import datetime as dt
import json
import random
import sys

import django


def plan(users, per_member):
    from django.contrib.auth import get_user_model

    from dailypapers.accounts.services import token_create
    from dailypapers.papers.models import DailyEntry, Paper

    rng = random.Random(20261204)
    recent = DailyEntry.objects.values_list("day", flat=True).distinct().order_by("-day")
    days = sorted(str(day) for day in recent[:60])
    featured = DailyEntry.objects.filter(day__in=days).values_list("paper__arxiv_id", flat=True)
    papers = list(featured.order_by("?")[:3000])
    fresh = Paper.objects.filter(daily_entries__isnull=True, hidden=False)
    fresh = list(fresh.values_list("arxiv_id", flat=True)[: users * per_member])
    titles = Paper.objects.filter(arxiv_id__in=rng.sample(papers, min(300, len(papers))))
    queries = [
        " ".join(title.split()[: rng.randint(2, 4)])
        for title in titles.values_list("title", flat=True)
    ]
    periods = set()
    for day in map(dt.date.fromisoformat, days):
        year, week, _ = day.isocalendar()
        periods |= {f"/papers/week/{year}-W{week:02d}", f"/papers/month/{day:%Y-%m}"}
    members = []
    for n in range(users):
        user, _ = get_user_model().objects.get_or_create(
            username=f"load-{n:03d}", defaults={"email": f"load-{n:03d}@example.org"}
        )
        user.api_tokens.all().delete()
        _, secret = token_create(user=user, name="bench/load.py", scopes=["vote", "submit"])
        mine = fresh[n * per_member : (n + 1) * per_member]
        members.append({"token": secret, "submit": mine})
    return {"days": days, "papers": papers, "queries": queries,
            "periods": sorted(periods), "members": members}  # fmt: skip


def check_and_clean(plan_file):
    from django.contrib.auth import get_user_model
    from django.db.models import Count, F

    from dailypapers.papers.models import DailyEntry, Paper, Vote
    from dailypapers.papers.services import vote_retract

    papers = Paper.objects.filter(arxiv_id__in=json.loads(open(plan_file).read())["papers"])
    counted = papers.annotate(rows=Count("votes")).exclude(local_upvotes=F("rows"))
    wrong = list(counted.values_list("arxiv_id", "local_upvotes", "rows"))
    members = get_user_model().objects.filter(username__startswith="load-")
    votes = Vote.objects.filter(user__in=members)
    submitted = DailyEntry.objects.filter(submitted_by__in=members)
    result = {"checked": papers.count(), "wrong": wrong, "votes": votes.count(),
              "submitted": submitted.count()}  # fmt: skip
    for vote in votes.select_related("user", "paper"):
        vote_retract(user=vote.user, paper=vote.paper)
    submitted.delete()
    members.delete()
    return result


if __name__ == "__main__":
    django.setup()
    command, *args = sys.argv[1:]
    if command == "plan":
        print(json.dumps(plan(int(args[0]), int(args[1]))))
    else:
        print(json.dumps(check_and_clean(args[0])))
