"""Benchmark: search while a big ingest is indexed under a running `dailypapers serve`.

    .venv/bin/python bench/search_during_ingest.py [--data DIR] [--clients 4] [--idle 30]

A fresh data directory gets the Hugging Face daily papers of ../shared/data (the site's
existing papers, indexed), then `dailypapers serve` (web, task worker and scheduler) starts
on it. Client threads search /api/papers/search with words of real titles (each query a
new URL, so every answer is computed) for --idle seconds: the anchor, same run, same server.
Then `dailypapers ingest listings` brings in the 74,728 arXiv listing records and indexes
them (as the command does), while the clients go on searching; after it returns, the
clients search on for --after seconds. Printed: per phase, searches, p50/p95/max latency,
searches over 3 s and failed ones; and how long after ingest returned a paper it brought
was found by its title through the API (target: under 60 s).
"""

import argparse
import collections
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "dailypapers"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--clients", type=int, default=4, help="searching threads")
    parser.add_argument("--idle", type=float, default=30, help="seconds of search before ingest")
    parser.add_argument("--after", type=float, default=20, help="seconds of search after it")
    parser.add_argument("--port", type=int, default=8187)
    options = parser.parse_args()
    if not real_data.port_is_free(options.port):
        sys.exit(f"port {options.port} is taken (a server left from another run?): --port N")
    data = real_data.require(options.data, real_data.LISTINGS, real_data.HF_DAYS)
    home = Path(tempfile.mkdtemp(prefix="dp-search-ingest-"))
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(home)}
    env["DAILYPAPERS_API_RATE_ANON"] = "1000000"  # one client address asks for everything
    try:
        run(options, data, env)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(options, data, env):
    cli = lambda *args, **kw: subprocess.run([*CLI, *args], env=env, check=True, **kw)  # noqa: E731
    cli("migrate", "-v", "0")
    started = time.perf_counter()
    cli("ingest", "hf-daily", str(data / real_data.HF_DAYS), "--no-progress",
        stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"site before the ingest: Hugging Face daily papers, loaded and indexed in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    titles = sample_titles(data)
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(options.port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{options.port}"
    try:
        wait_until_up(base)
        load = Load(base, titles, options.clients)
        load.start()
        time.sleep(options.idle)
        load.phase = "during ingest"
        started = time.perf_counter()
        cli("ingest", "listings", str(data / real_data.LISTINGS), "--no-progress",
            stdout=subprocess.DEVNULL)  # fmt: skip
        ingest_seconds = time.perf_counter() - started
        returned = time.perf_counter()
        load.phase = "after ingest"
        found_after = time_to_find(base, titles["listings"], returned)
        time.sleep(options.after)
        load.stop()
    finally:
        server.terminate()
        server.wait(30)
    report(load, ingest_seconds, found_after, options)


def sample_titles(data):
    """Titles of real papers: some of the listings (found after the ingest) for the probe,
    and query words from all of them."""
    import gzip
    import json

    listings = []
    with gzip.open(data / real_data.LISTINGS, "rt") as lines:
        for number, line in enumerate(lines):
            if number % 997 == 0:
                listings.append(json.loads(line)["title"])
    words = [w for title in listings for w in title.split() if len(w) > 4 and w.isalpha()]
    return {"listings": listings, "words": words}


def wait_until_up(base, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("the server did not come up")


class Load:
    def __init__(self, base, titles, clients):
        self.base, self.words, self.clients = base, titles["words"], clients
        self.phase, self.running = "idle", True
        self.results = []  # (phase, seconds, ok)
        self.errors = collections.Counter()
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(clients)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join()

    def client(self, number):
        rng = random.Random(number)
        while self.running:
            query = " ".join(rng.sample(self.words, 3))
            url = f"{self.base}/api/papers/search?q={quote(query)}&limit=20"
            phase, started = self.phase, time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=60) as answer:
                    answer.read()
                    ok = answer.status == 200
            except OSError as error:  # an HTTP error (its status) or no answer
                ok = False
                self.errors[getattr(error, "code", type(error).__name__)] += 1
            self.results.append((phase, time.perf_counter() - started, ok))


def time_to_find(base, titles, returned, limit=120):
    """Seconds from the ingest's return until the API finds a paper it brought by title."""
    title = titles[len(titles) // 2]
    url = f"{base}/api/papers/search?q={quote(title)}&limit=5"
    while time.perf_counter() - returned < limit:
        with urllib.request.urlopen(url, timeout=60) as answer:
            if title.lower()[:40] in answer.read().decode().lower():
                return time.perf_counter() - returned
        time.sleep(1)
    return None


def report(load, ingest_seconds, found_after, options):
    print(f"ingest listings (74,728 records, upsert + indexing) under serve: "
          f"{ingest_seconds:.0f} s; {options.clients} clients searching throughout")  # fmt: skip
    print(f"{'phase':<15} {'searches':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'over 3 s':>9} {'failed':>7}")  # fmt: skip
    for phase in ("idle", "during ingest", "after ingest"):
        times = sorted(s for p, s, ok in load.results if p == phase and ok)
        failed = sum(1 for p, _, ok in load.results if p == phase and not ok)
        if not times:
            print(f"{phase:<15} no answers; {failed} failed")
            continue
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"{phase:<15} {len(times) + failed:>9} {statistics.median(times) * 1000:>8.0f} "
              f"{p95 * 1000:>8.0f} {times[-1] * 1000:>8.0f} "
              f"{sum(s > 3 for s in times):>9} {failed:>7}")  # fmt: skip
    if found_after is None:
        print("a paper of the ingest was NOT found by its title within 120 s of its return")
    else:
        print(f"a paper of the ingest found by its title {found_after:.1f} s after it returned")
    if load.errors:
        print(f"failures by kind: {dict(load.errors)}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
