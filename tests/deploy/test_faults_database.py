"""The database failing under a running site, with real servers: PostgreSQL restarted under
load (requests fail cleanly with 503 and the app recovers without a restart), and SQLite on
a disk that fills up or turns read-only (a clear error page, no corruption)."""

import sqlite3
import threading
import time
from collections import Counter

import httpx
import pytest

from .servers import AppServer, PostgresCluster, Tmpfs, seed_site, site_env, vote_mismatches


class Load:
    """Threads that read pages and toggle votes until stopped; every answer is kept."""

    def __init__(self, url, site, threads=6):
        self.url, self.site = url, site
        self.answers = []  # (monotonic time, kind, status or exception name)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(threads)]

    def run(self, number):
        papers = self.site["papers"]
        auth = {"Authorization": f"Bearer {self.site['token']}"}
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for i in range(10**9):
                if self.stopping.is_set():
                    return
                paper = papers[(number * 7 + i) % len(papers)]
                if i % 4 == 3:
                    method = "POST" if (i // 4 + number) % 2 == 0 else "DELETE"
                    request = ("vote", method, f"/api/papers/{paper}/upvote", auth)
                else:
                    request = ("page", "GET", ["/", f"/papers/{paper}"][i % 2], {})
                kind, method, path, headers = request
                try:
                    response = client.request(method, path, headers=headers)
                    outcome = response.status_code
                    if outcome == 503:
                        assert response.headers["Retry-After"]
                        self.unavailable_body = response.text
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                self.answers.append((time.monotonic(), kind, outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def outcomes(self, since=0.0, until=float("inf")):
        return Counter(outcome for when, _, outcome in self.answers if since <= when < until)


def wait_until(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the load did not get there in time"
        time.sleep(0.1)


@pytest.mark.slow  # ~40 s: a PostgreSQL cluster of its own, restarted under load
def test_postgres_restarted_under_load_answers_503_then_recovers_without_a_restart(tmp_path):
    cluster = PostgresCluster()
    cluster.init().start()
    server = None
    try:
        env = site_env(tmp_path / "data", DATABASE_URL=cluster.url)
        site = seed_site(env)
        server = AppServer(env).start()
        with Load(server.url, site) as load:
            # Waits on answers, not on the clock: a busy machine can be slow to answer.
            wait_until(lambda: load.outcomes()[200] >= 10)
            cluster.stop("fast")  # in-flight queries are cut off
            down_at = time.monotonic()
            wait_until(lambda: load.outcomes(down_at)[503] >= 3)  # clean 503s while down
            cluster.start()
            up_at = time.monotonic()
            wait_until(lambda: load.outcomes(up_at + 3)[200] >= 20)
        assert server.process.poll() is None  # the same app server throughout

        everything = load.outcomes()
        assert set(everything) <= {200, 503}, everything  # never a 500, never a dropped one
        assert "database" in load.unavailable_body
        recovered = load.outcomes(up_at + 3)
        assert set(recovered) == {200}, recovered
        assert vote_mismatches(env)[0] == 0  # counts equal vote rows
    finally:
        if server is not None:
            server.stop()
        cluster.remove()


def integrity(database):
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def vote(client, site, method="POST", paper=0):
    auth = {"Authorization": f"Bearer {site['token']}"}
    return client.request(method, f"/api/papers/{site['papers'][paper]}/upvote", headers=auth)


def subscribe(client):
    """The /subscribe form, as a reader sends it (with its CSRF token)."""
    form = client.get("/subscribe")
    token = form.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    return client.post(
        "/subscribe",
        data={"csrfmiddlewaretoken": token, "email": "reader@example.org", "frequency": "daily"},
    )


@pytest.mark.slow  # ~30 s: a tmpfs of its own, filled up and then made read-only
def test_sqlite_on_a_full_then_read_only_disk_shows_a_clear_page_and_stays_whole(tmp_path):
    with Tmpfs(tmp_path / "disk", size="96m") as disk:
        env = site_env(disk.path / "data")
        site = seed_site(env)
        database = disk.path / "data" / "dailypapers.sqlite3"
        server = AppServer(env).start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert vote(client, site).status_code == 200

                filler = disk.fill()
                full = vote(client, site, paper=1)
                assert full.status_code == 503 and "disk is full" in full.json()["error"]
                page = subscribe(client)
                assert page.status_code == 503 and "cannot save changes" in page.text
                assert client.get("/").status_code == 200  # reading still works
                filler.unlink()
                assert vote(client, site, paper=1).status_code == 200  # no restart needed

            # Read-only: a disk remounted so (the server restarted on it: Linux refuses to
            # remount a disk read-only under files open for writing).
            server.stop()
            disk.remount("ro")
            server.start()
            with httpx.Client(base_url=server.url, timeout=30) as client:
                refused = vote(client, site, paper=2)
                assert refused.status_code == 503, refused.text
                assert "read-only" in refused.json()["error"]
                page = client.get(f"/papers/{site['papers'][3]}")
                assert page.status_code == 200 or "cannot save changes" in page.text
            server.stop()
            disk.remount("rw")
            server.start()
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert vote(client, site, paper=2).status_code == 200
        finally:
            server.stop()
        assert integrity(database) == "ok"
        assert vote_mismatches(env) == (0, 3)
