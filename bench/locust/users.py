"""The users of bench/load.py (run by locust, never imported by the site or the tests).

Each user reads pages (80%), searches (15%), and as a member with an API token upvotes and
un-upvotes papers (4%) and submits papers to today's page (1%). Requests are named by
kind, so locust's statistics are per kind. The bench writes what the users need (papers,
days, queries, tokens, papers to submit) into the JSON file named by DAILYPAPERS_LOAD_PLAN.
"""

import itertools
import json
import os
import random

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["DAILYPAPERS_LOAD_PLAN"]).read())
MEMBERS = itertools.count()


class Reader(HttpUser):
    wait_time = between(0, 1)  # a reader clicks again within a second

    def on_start(self):
        number = next(MEMBERS)
        member = PLAN["members"][number % len(PLAN["members"])]
        self.token = {"Authorization": f"Bearer {member['token']}"}
        run = int(os.environ.get("DAILYPAPERS_LOAD_RUN", "0"))
        self.to_submit = list(member["submit"][run::2])  # each run its own papers
        self.voted = set()

    @task(20)
    def daily_page(self):
        self.client.get("/", name="page")

    @task(15)
    def day_page(self):
        self.client.get(f"/papers/date/{random.choice(PLAN['days'])}", name="page")

    @task(5)
    def week_or_month_page(self):
        self.client.get(random.choice(PLAN["periods"]), name="page")

    @task(10)
    def trending_page(self):
        self.client.get("/papers/trending", name="page")

    @task(30)
    def paper_page(self):
        self.client.get(f"/papers/{random.choice(PLAN['papers'])}", name="page")

    @task(15)
    def search(self):
        self.client.get("/search", params={"q": random.choice(PLAN["queries"])}, name="search")

    @task(4)
    def vote(self):
        paper = random.choice(PLAN["papers"])
        url = f"/api/papers/{paper}/upvote"
        if paper in self.voted:
            self.client.delete(url, headers=self.token, name="vote")
            self.voted.discard(paper)
        else:
            self.client.post(url, headers=self.token, name="vote")
            self.voted.add(paper)

    @task(1)
    def submit(self):
        if not self.to_submit:
            return
        paper = self.to_submit.pop()
        self.client.post("/api/papers/submit", json={"id": paper}, headers=self.token,
                         name="submit")  # fmt: skip
