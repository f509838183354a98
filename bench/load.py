"""Load test of the many-machine topology, on this machine: nginx in front of two app
servers, PostgreSQL, Redis, two task workers and the scheduler, under locust.

    .venv/bin/python bench/load.py --database-url postgres://USER:PASS@HOST:PORT/DB
        [--data DIR] [--corpus FILE.jsonl.gz] [--users 50] [--seconds 180]
        [--anchor-seconds 30] [--port 8800]

The database is used as it is when it has papers (e.g. the 1M-paper one built from
../shared/tools/make_corpus.py); an empty one is first filled from the real data (every
Hugging Face daily day and the arXiv listing records of --data, plus --corpus) and indexed
for search. Then, in one run:
  - anchor: the same users and mix against ONE app server directly (no proxy), for
    --anchor-seconds, with the rest of the topology running;
  - the topology: nginx (deploy/nginx, the shipped configuration) balancing two app
    servers (granian, 1 process x 4 threads each), Redis for the caches and rate limits,
    two `dailypapers db_worker`, one `dailypapers crontask`, and keyword search as deploy/
    runs it (tantivy-follow: the index is caught up with `search follow --once` first).
Users: --users members, each clicking again within a second: 80% pages (daily, day,
week/month, trending, paper), 15% search, 4% upvote/un-upvote and 1% submissions through
the API with their tokens. Prints requests/s and p50/p95/p99 per kind, the errors, and
checks afterwards that each paper's vote count equals its vote rows. Exits 1 on any error
or mismatch. The bench's members, votes and submissions are removed at the end.
"""

import argparse
import contextlib
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option, free ports)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = [sys.executable, "-m", "dailypapers"]
LOCUSTFILE = Path(__file__).resolve().parent / "locust" / "users.py"
SUBMISSIONS_PER_MEMBER = 20

SITE = Path(__file__).resolve().parent / "locust" / "site.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="the PostgreSQL database (default: $DATABASE_URL)")  # fmt: skip
    parser.add_argument("--corpus", type=Path, help="more papers for an empty database "
                        "(a make_corpus.py file), loaded with `ingest listings`")  # fmt: skip
    parser.add_argument("--fill", choices=["data", "sample"], default="data",
                        help="what fills an empty database: the real data of --data, or the "
                        "bundled sample and tests/data's listings (small, for CI)")  # fmt: skip
    parser.add_argument("--search-engine", choices=["tantivy-follow", "auto"],
                        default="tantivy-follow", help="keyword search as deploy/ runs it "
                        "(a local index following the database, built first) or auto "
                        "(PostgreSQL full-text)")  # fmt: skip
    parser.add_argument("--search-dir", type=Path, help="the app servers' keyword index "
                        "(default: a temporary one, built before the run)")  # fmt: skip
    parser.add_argument(
        "--embedder",
        default="static",
        help="DAILYPAPERS_EMBEDDER for every process (none: keyword only)",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--anchor-seconds", type=int, default=30,
                        help="the same load on one app server alone first (0: skip)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8800,
                        help="nginx; the app servers take the next two, Redis port+79")  # fmt: skip
    options = parser.parse_args()
    if not options.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("load.py: pass --database-url postgres://... (the topology runs on PostgreSQL)")
    for program in ("redis-server", "nginx"):
        if not shutil.which(program):
            sys.exit(f"load.py: {program} is not installed (apt-get install {program})")
    ports = [options.port, options.port + 1, options.port + 2, options.port + 79]
    if busy := [port for port in ports if not real_data.port_is_free(port)]:
        sys.exit(f"load.py: something already listens on port(s) {busy}")

    work = Path(tempfile.mkdtemp(prefix="dp-load."))
    work.chmod(0o755)  # nginx's workers (another user when run as root) read static files
    env = topology_env(options, work)
    prepare_database(options, env)
    if options.search_engine == "tantivy-follow":  # as deploy/ does before serving
        started = time.perf_counter()
        subprocess.run([*CLI, "search", "follow", "--once"], env=env, check=True)
        print(f"keyword index caught up with the database in {time.perf_counter() - started:.0f} s")
    plan_file = work / "plan.json"
    plan = make_plan(options, env, plan_file)
    print(f"plan: {len(plan['papers'])} featured papers over {len(plan['days'])} days, "
          f"{len(plan['queries'])} queries, {len(plan['members'])} members")  # fmt: skip
    try:
        with Topology(options, env, work) as topology:
            topology.warm_up(plan)
            anchor = None
            if options.anchor_seconds:
                anchor = run_locust(options, env, work, "anchor", topology.app_urls[0],
                                    options.anchor_seconds)  # fmt: skip
            result = run_locust(options, env, work, "topology", topology.proxy_url,
                                options.seconds)  # fmt: skip
            topology.check_alive()
    finally:
        check = json.loads(site_script(env, "check-and-clean", plan_file))
        shutil.rmtree(work, ignore_errors=True)
    ok = report(options, anchor, result, check)
    sys.exit(0 if ok else 1)


def topology_env(options, work):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAILYPAPERS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DATABASE_URL=options.database_url,
        SECRET_KEY="bench-load-secret-key-the-same-on-every-process",
        DAILYPAPERS_DATA_DIR=str(work / "data"),
        DAILYPAPERS_CACHE_URL=f"redis://127.0.0.1:{options.port + 79}/0",
        DAILYPAPERS_PROXY_COUNT="1",
        DAILYPAPERS_SITE_URL=f"http://127.0.0.1:{options.port}",
        DAILYPAPERS_LOG_LEVEL="WARNING",
        DAILYPAPERS_SEARCH_ENGINE=options.search_engine,
        DAILYPAPERS_SEARCH_DIR=str(options.search_dir or work / "search"),
        DAILYPAPERS_EMBEDDER=options.embedder,
        # One machine plays 50 members from one address: lift the per-member limits.
        DAILYPAPERS_API_RATE_ANON="0",
        DAILYPAPERS_API_RATE_TOKEN="0",
        DAILYPAPERS_VOTES_PER_HOUR="1000000",
        DAILYPAPERS_SUBMISSIONS_PER_DAY="1000000",
        DAILYPAPERS_SUBMIT_MAX_AGE_DAYS="100000",
    )
    return env


def site_script(env, *args):
    """bench/locust/site.py's answer (its last line of output)."""
    command = [sys.executable, str(SITE), *map(str, args)]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"load.py: {shlex.join(command)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def prepare_database(options, env):
    subprocess.run([*CLI, "migrate", "-v", "0"], env=env, check=True)
    count = "from dailypapers.papers.models import Paper; print(Paper.objects.count())"
    done = subprocess.run([*CLI, "shell", "-c", count], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    papers = int(done.stdout.strip().splitlines()[-1])
    if papers:
        print(f"database: {papers:,} papers, used as it is")
        return
    started = time.perf_counter()
    if options.fill == "sample":
        subprocess.run([*CLI, "load_sample"], env=env, check=True, stdout=subprocess.DEVNULL)
        sources = [("listings", REPO / "tests" / "data" / "arxiv-listings-sample.jsonl.gz")]
    else:
        data = real_data.require(options.data, real_data.LISTINGS, real_data.HF_DAYS)
        sources = [("hf-daily", data / real_data.HF_DAYS), ("listings", data / real_data.LISTINGS)]
    if options.corpus:
        sources.append(("listings", options.corpus))
    for source, path in sources:
        print(f"loading {path} ...")
        subprocess.run([*CLI, "ingest", source, str(path)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run([*CLI, "search", "reindex"], env=env, check=True)
    print(f"database filled and indexed in {time.perf_counter() - started:.0f} s")


def make_plan(options, env, plan_file):
    plan_file.write_text(site_script(env, "plan", options.users, SUBMISSIONS_PER_MEMBER))
    return json.loads(plan_file.read_text())


class Topology:
    """Redis, two app servers, nginx, two workers and the scheduler, as processes."""

    def __init__(self, options, env, work):
        self.options, self.env, self.work = options, env, work
        self.processes = {}
        port = options.port
        self.proxy_url = f"http://127.0.0.1:{port}"
        self.app_urls = [f"http://127.0.0.1:{port + 1}", f"http://127.0.0.1:{port + 2}"]

    def __enter__(self):
        port = self.options.port
        subprocess.run([*CLI, "collectstatic", "--no-input", "-v", "0"], env=self.env,
                       check=True)  # fmt: skip
        self.start("redis", ["redis-server", "--port", str(port + 79), "--save", "",
                             "--appendonly", "no"], port + 79)  # fmt: skip
        for number, app_port in enumerate((port + 1, port + 2), 1):
            self.start(f"web{number}", [str(BIN / "granian"), "--interface", "wsgi",
                       "--host", "127.0.0.1", "--port", str(app_port), "--workers", "1",
                       "--blocking-threads", "4", "--backpressure", "64", "--no-ws",
                       "dailypapers.wsgi:application"], app_port)  # fmt: skip
        self.start("nginx", ["nginx", "-p", str(self.work), "-c", str(self.nginx_conf()),
                             "-g", "daemon off;"], port)  # fmt: skip
        for number in (1, 2):
            self.start(f"worker{number}", [*CLI, "db_worker", "--queue-name", "*",
                                           "--no-reload"])  # fmt: skip
        self.start("scheduler", [*CLI, "crontask"])
        return self

    def nginx_conf(self):
        """The shipped deploy/nginx files, with this run's ports and data directory."""
        deploy = REPO / "deploy" / "nginx"
        port = self.options.port
        upstream = (deploy / "upstream-systemd.conf").read_text()
        upstream = upstream.replace(":8001", f":{port + 1}").replace(":8002", f":{port + 2}")
        site = (deploy / "dailypapers.conf").read_text()
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
        site = site.replace(
            "/var/lib/dailypapers/static/", f"{self.env['DAILYPAPERS_DATA_DIR']}/static/"
        )
        (self.work / "upstream.conf").write_text(upstream)
        (self.work / "site.conf").write_text(site)
        conf = self.work / "nginx.conf"
        conf.write_text(
            textwrap.dedent(f"""\
            worker_processes 1;
            pid {self.work}/nginx.pid;
            error_log {self.work}/nginx-error.log warn;
            events {{ worker_connections 1024; }}
            http {{
                include /etc/nginx/mime.types;
                access_log off;
                include {self.work}/upstream.conf;
                include {self.work}/site.conf;
            }}
        """)
        )
        return conf

    def start(self, name, command, port=None):
        log = open(self.work / f"{name}.log", "w")
        self.processes[name] = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=log,
                                                stderr=subprocess.STDOUT)  # fmt: skip
        if port:
            wait_for_port(port, self.processes[name], name, self.work)

    def warm_up(self, plan):
        """Each app server answers its first requests slowly (imports, connections, the
        embedder): get that out of the way before measuring."""
        paths = [
            "/",
            "/papers/trending",
            "/search?" + urllib.parse.urlencode({"q": plan["queries"][0]}),
        ]
        paths += [f"/papers/{paper}" for paper in plan["papers"][:5]]
        for url in [*self.app_urls, self.proxy_url]:
            for path in paths:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(url + path, timeout=120).read()

    def check_alive(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = (self.work / f"{name}.log").read_text()[-2000:]
                raise SystemExit(f"load.py: {name} died during the run:\n{log}")

    def __exit__(self, *exc):
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_port(port, process, name, work, timeout=60):
    deadline = time.monotonic() + timeout
    while real_data.port_is_free(port):
        if process.poll() is not None or time.monotonic() > deadline:
            log = (work / f"{name}.log").read_text()[-2000:]
            raise SystemExit(f"load.py: {name} did not start on port {port}:\n{log}")
        time.sleep(0.1)


def run_locust(options, env, work, label, url, seconds):
    print(f"{label}: {options.users} users for {seconds} s against {url} ...", flush=True)
    prefix = work / label
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--users", str(options.users), "--spawn-rate", str(max(1, options.users // 5)),
               "--run-time", f"{seconds}s", "--host", url, "--csv", str(prefix),
               "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"]  # fmt: skip
    # Each run submits its own half of the members' papers: the topology run submitting
    # what the anchor run already put on today's page was refused (400), rightly.
    locust_env = {**env, "DAILYPAPERS_LOAD_PLAN": str(work / "plan.json"),
                  "DAILYPAPERS_LOAD_RUN": "0" if label == "anchor" else "1"}  # fmt: skip
    done = subprocess.run(command, env=locust_env, capture_output=True, text=True)
    rows = {row["Name"]: row for row in csv.DictReader(open(f"{prefix}_stats.csv"))}
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv")))
    if done.returncode not in (0, 1):  # 1: locust's "there were failures"
        sys.exit(f"load.py: locust failed:\n{done.stderr[-3000:]}")
    return {"rows": rows, "failures": failures, "seconds": seconds}


def report(options, anchor, result, check):
    load = os.getloadavg()
    print(f"\nload average now: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)")
    print(f"{'run':<10}{'kind':<10}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'errors':>8}")  # fmt: skip
    for label, run in (("anchor", anchor), ("topology", result)):
        if run is None:
            continue
        for kind in ("page", "search", "vote", "submit", "Aggregated"):
            row = run["rows"].get(kind)
            if row is None:
                continue
            print(f"{label:<10}{kind:<10}{int(row['Request Count']):>10,}"
                  f"{float(row['Requests/s']):>9.1f}{row['50%']:>9}{row['95%']:>9}"
                  f"{row['99%']:>9}{int(row['Failure Count']):>8}")  # fmt: skip
    errors = int(result["rows"]["Aggregated"]["Failure Count"])
    for failure in result["failures"][:10]:
        print(f"  error: {failure['Method']} {failure['Name']}: {failure['Error']} "
              f"x{failure['Occurrences']}")  # fmt: skip
    if anchor and float(anchor["rows"]["Aggregated"]["Requests/s"]):
        ratio = float(result["rows"]["Aggregated"]["Requests/s"]) / float(
            anchor["rows"]["Aggregated"]["Requests/s"]
        )
        print(f"topology / anchor throughput: {ratio:.2f}x")
    print(f"votes afterwards: {check['checked']} papers checked, {len(check['wrong'])} with a "
          f"count different from their vote rows; the members left {check['votes']} votes and "
          f"{check['submitted']} submissions (removed)")  # fmt: skip
    for arxiv_id, count, rows in check["wrong"][:10]:
        print(f"  mismatch: {arxiv_id}: local_upvotes {count}, vote rows {rows}")
    return errors == 0 and not check["wrong"]


if __name__ == "__main__":
    main()
