"""Benchmark: the site's pages under wrk, against a Django "hello" view under the same server.

    .venv/bin/python bench/pages.py [--data DIR] [--keep DIR] [--server granian|waitress]
                                    [--workers 2] [--threads 4] [--seconds 10]
                                    [--accept-encoding "gzip, deflate, br"]

Builds once (kept in --keep DIR, default /tmp/dp-pages-bench) a SQLite site from the real
data: every Hugging Face daily day of ../shared/data and the 74,728 arXiv listing records,
indexed for search (`dailypapers ingest`). Then, in one run, serves with the chosen server
and the same processes and threads, both up at once (on --port and --port + 1):
  - hello: a minimal Django project (CommonMiddleware only) with one view: the anchor;
  - `dailypapers serve --no-worker --no-scheduler`: the site.
and loads each address with wrk (Debian package) at 8 and 32 connections for --seconds,
each right after loading hello the same way: on a shared machine whose load moves, a
page's ratio compares two figures taken a few seconds apart. Prints requests/s, p50 and
p99 latency, and the ratio to that hello.
Anonymous pages come from the page cache after the first request (as for real readers);
"signed in" rows send a member's cookies (session and CSRF, as a browser does). Every
request, hello's too, says "Accept-Encoding: gzip, deflate, br" as browsers and feed readers
do (--accept-encoding "" for none): anonymous copies go out gzipped. Last, the
cost of a page that is not in the cache (each address made new with ?_=N): median and max
of 20 sequential requests.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)

CLI = [sys.executable, "-m", "dailypapers"]
HELLO = textwrap.dedent(
    """
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpResponse
    from django.urls import path

    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="bench",
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    )
    urlpatterns = [path("", lambda request: HttpResponse("hello"))]
    application = get_wsgi_application()
    """
)
SESSION = textwrap.dedent(
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    user, _ = get_user_model().objects.get_or_create(username="bench-reader")
    user.set_password("bench-password-1"); user.save()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    from django.utils.crypto import get_random_string
    # A browser sends the CSRF cookie that its first page set, beside the session's.
    print(f"sessionid={store.session_key}; csrftoken={get_random_string(32)}")
    """
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/dp-pages-bench"))
    parser.add_argument("--server", choices=["granian", "waitress"], default="granian")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=8287)
    parser.add_argument("--accept-encoding", default="gzip, deflate, br")
    options = parser.parse_args()
    for port in (options.port, options.port + 1):
        if not real_data.port_is_free(port):
            sys.exit(f"port {port} is taken (a server left from another run?): --port N")
    if not shutil.which("wrk"):
        sys.exit("pages.py needs wrk: apt-get install wrk")
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(options.keep)}
    env.pop("DATABASE_URL", None)
    env["DAILYPAPERS_API_RATE_ANON"] = "1000000"  # one client address asks for everything
    build(options, env)
    paper, month = featured_paper(env)
    session = run_python(env, SESSION).strip().splitlines()[-1]
    urls = [
        ("daily page /", "/", None),
        ("daily page, signed in", "/", session),
        ("/papers/trending", "/papers/trending", None),
        ("paper page", f"/papers/{paper}", None),
        ("paper page, signed in", f"/papers/{paper}", session),
        ("/feeds/daily.atom", "/feeds/daily.atom", None),
        ("/feeds/trending.rss", "/feeds/trending.rss", None),
        ("/search", "/search?q=diffusion+language+models", None),
        ("/api/papers/search", "/api/papers/search?q=diffusion+language+models", None),
        ("/api/daily_papers", "/api/daily_papers", None),
    ]
    rows = measure(options, env, urls)
    report(options, rows)
    misses(options, env, paper, month)


def build(options, env):
    if (options.keep / "ready").exists():
        return
    data = real_data.require(options.data, real_data.LISTINGS, real_data.HF_DAYS)
    shutil.rmtree(options.keep, ignore_errors=True)
    options.keep.mkdir(parents=True)
    started = time.perf_counter()
    subprocess.run([*CLI, "migrate", "-v", "0"], env=env, check=True)
    for source, path in (("hf-daily", real_data.HF_DAYS), ("listings", real_data.LISTINGS)):
        subprocess.run([*CLI, "ingest", source, str(data / path)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    (options.keep / "ready").write_text("")
    print(f"built the site in {options.keep} in {time.perf_counter() - started:.0f} s")


def run_python(env, code):
    return subprocess.run([*CLI, "shell", "-c", code], env=env, check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


def featured_paper(env):
    """(the latest day's top paper, that day's month as YYYY-MM)."""
    code = "from dailypapers.papers.models import DailyEntry as E; e = E.objects.order_by('-day', '-paper__imported_upvotes').first(); print(e.paper.arxiv_id, f'{e.day:%Y-%m}')"  # noqa: E501
    return run_python(env, code).strip().splitlines()[-1].split()


def start(options, env, kind, port):
    if kind == "hello":
        folder = Path(tempfile.mkdtemp(prefix="dp-hello-"))
        (folder / "hello.py").write_text(HELLO)
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--port", str(port),
                   "--workers", str(options.workers), "--blocking-threads",
                   str(options.threads), "--no-log", "hello:application"]  # fmt: skip
        if options.server == "waitress":
            threads = options.threads * options.workers
            command = [sys.executable, "-m", "waitress", f"--port={port}",
                       f"--threads={threads}", "hello:application"]  # fmt: skip
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
    else:
        threads = (
            options.threads if options.server == "granian" else options.threads * options.workers
        )
        command = [*CLI, "serve", "--no-worker", "--no-scheduler", "--port", str(port),
                   "--server", options.server, "--workers", str(options.workers),
                   "--threads", str(threads)]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit(f"the {kind} server did not come up")


def stop(process):
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(options, port, path, connections, cookie=None):
    url = f"http://127.0.0.1:{port}{path}"
    command = ["wrk", "-t2", f"-c{connections}", f"-d{options.seconds}s", "--latency", url]
    if options.accept_encoding:
        command[1:1] = ["-H", f"Accept-Encoding: {options.accept_encoding}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, latency(out, "50%"), latency(out, "99%"), int(errors.group(1)) if errors else 0


def latency(out, percentile):
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(options, env, urls):
    """Each row: hello, then the page, back to back (both servers up, one loaded at a time),
    so that a page's ratio compares two figures taken under the same load of the machine."""
    rows = []
    hello_port = options.port + 1
    hello = start(options, env, "hello", hello_port)
    site = start(options, env, "site", options.port)
    try:
        for label, path, cookie in urls:
            request = urllib.request.Request(f"http://127.0.0.1:{options.port}{path}")
            if cookie:
                request.add_header("Cookie", cookie)
            for _ in range(2 * options.workers):  # each server process's first answer
                urllib.request.urlopen(request, timeout=60).read()
            for connections in (8, 32):
                anchor = wrk(options, hello_port, "/", connections)[0]
                rows.append((label, connections, anchor,
                             *wrk(options, options.port, path, connections, cookie)))  # fmt: skip
    finally:
        stop(hello)
        stop(site)
    return rows


def report(options, rows):
    shape = f"{options.workers} processes x {options.threads} threads"
    if options.server == "waitress":
        shape = f"1 process x {options.workers * options.threads} threads"
    print(f"\n{options.server}, {shape}; wrk {options.seconds} s per row, each row's Django "
          f"hello measured just before it; Accept-Encoding: {options.accept_encoding or '-'}; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'address':<26} {'conns':>5} {'hello/s':>8} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'x hello':>8} {'non-2xx':>8}")  # fmt: skip
    for label, connections, anchor, rate, p50, p99, errors in rows:
        print(f"{label:<26} {connections:>5} {anchor:>8.0f} {rate:>8.0f} {p50:>8.1f} "
              f"{p99:>8.1f} {rate / anchor:>7.2f}x {errors:>8}")  # fmt: skip


def misses(options, env, paper, month):
    """Pages not in the cache: a new address each time (?_=N), one at a time."""
    site = start(options, env, "site", options.port)
    try:
        print("\nnot in the cache (20 sequential requests, each a new address):")
        query = "q=diffusion+language+models"
        for label, path in (("daily page /", "/"), ("paper page", f"/papers/{paper}"),
                            ("/feeds/daily.atom", "/feeds/daily.atom"),
                            ("/feeds/trending.rss", "/feeds/trending.rss"),
                            ("month feed", f"/feeds/month/{month}.atom"),
                            ("category feed", "/feeds/category/cs.CL.atom"),
                            ("search feed", f"/feeds/search.atom?{query}&"),
                            ("/search", f"/search?{query}&"),
                            ("/api/papers/search", f"/api/papers/search?{query}&")):  # fmt: skip
            times = []
            for number in range(20):
                started = time.perf_counter()
                joiner = "" if path.endswith("&") else "?"
                url = f"http://127.0.0.1:{options.port}{path}{joiner}_={number}"
                urllib.request.urlopen(url, timeout=60).read()
                times.append((time.perf_counter() - started) * 1000)
            print(f"  {label:<22} median {statistics.median(times):6.1f} ms, "
                  f"max {max(times):6.1f} ms")  # fmt: skip
    finally:
        stop(site)


if __name__ == "__main__":
    main()
