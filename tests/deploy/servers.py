"""Real servers for the deployment and fault tests: redis-server, a throwaway PostgreSQL
cluster, app servers. Each starts on a free loopback port and is stopped by its owner.

A binary that is missing skips the test with the reason, except under CI (CI=true), where
.ci/run installs them all and a missing one is a failure, not a silent skip.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


def need_binary(name, hint):
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({hint})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=20.0, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on port {port} within {timeout} s")


def stop(process, timeout=10):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    """A redis-server of our own, without persistence, that tests can stop and start."""

    def __init__(self, port=None):
        self.binary = need_binary("redis-server", "apt-get install redis-server")
        self.port = port or free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), *options], stdout=subprocess.DEVNULL
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self):
        if self.process is not None:
            stop(self.process)
            self.process = None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder) that tests may restart.

    The binaries come from DAILYPAPERS_PG_BIN (.ci/run sets it; on a developer machine the
    folder of initdb/pg_ctl, e.g. the one /work/pg/setup.sh prints) or from PATH.
    """

    def __init__(self, port=None):
        pg_bin = os.environ.get("DAILYPAPERS_PG_BIN", "")
        if pg_bin:
            os.environ["PATH"] = f"{pg_bin}{os.pathsep}{os.environ['PATH']}"
        self.pg_ctl = need_binary("pg_ctl", "set DAILYPAPERS_PG_BIN to PostgreSQL's bin folder")
        self.bin = Path(self.pg_ctl).parent
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dailypapers-faults-pg."))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args):
        command = [str(arg) for arg in args]
        if self.as_postgres:
            command = ["su", "-s", "/bin/sh", "postgres", "-c", " ".join(command)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def init(self):
        self.data.mkdir()
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.data, "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres")
        return self

    def start(self):
        options = f"'-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off'"
        self._run(self.pg_ctl, "-D", self.data, "-o", options, "-l", self.data / "log",
                  "-w", "start")  # fmt: skip
        return self

    def stop(self, mode="fast"):
        self._run(self.pg_ctl, "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


# --- appended to tests/deploy/servers.py ---


class Tmpfs:
    """A small filesystem of its own (tmpfs), to fill up or make read-only. Needs root (or
    CAP_SYS_ADMIN): skips without it, except under CI, where .ci/run runs as root."""

    def __init__(self, path, size="64m"):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.size = size

    def __enter__(self):
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs",
                               str(self.path)], capture_output=True, text=True)  # fmt: skip
        if done.returncode:
            message = f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        return self

    def fill(self):
        """Write a file until the disk is full; returns it (delete it to free the space)."""
        filler = self.path / "filler"
        block = b"\0" * (1 << 20)
        with open(filler, "wb") as out:
            try:
                while True:
                    out.write(block)
                    out.flush()
            except OSError:
                pass
        return filler

    def remount(self, mode):
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", str(self.path)], check=False)


class AppServer:
    """`granian` serving dailypapers.wsgi with the given environment, on a free port."""

    def __init__(self, env, threads=4):
        self.env = env
        self.port = free_port()
        self.threads = threads
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        # A file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
        self.log = tempfile.TemporaryFile()
        granian = Path(sys.executable).parent / "granian"
        self.process = subprocess.Popen(
            [str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", "1", "--blocking-threads", str(self.threads),
             "--no-ws", "dailypapers.wsgi:application"],  # fmt: skip
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.port, timeout=60, process=self.process)
        return self

    def stop(self):
        if self.process is not None:
            stop(self.process)
            self.log.close()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def site_env(data_dir, **settings):
    """The environment of a dailypapers process on its own data directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAILYPAPERS_", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DAILYPAPERS_DATA_DIR=str(data_dir),
        DAILYPAPERS_EMBEDDER="none",
        DAILYPAPERS_LOG_LEVEL="CRITICAL",
        SECRET_KEY="tests-deploy-faults",
    )
    env.update(settings)
    return env


SEED = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("ingest", "hf-daily", sys.argv[1], verbosity=0)
from django.contrib.auth import get_user_model
from dailypapers.accounts.services import token_create
from dailypapers.papers.models import DailyEntry
member = get_user_model().objects.create_user("member", "member@example.org", "a long password 1")
_, secret = token_create(user=member, name="faults", scopes=["vote"])
papers = list(DailyEntry.objects.values_list("paper__arxiv_id", flat=True))
print(json.dumps({"token": secret, "papers": papers}))
"""


def seed_site(env):
    """Migrate, load one real Hugging Face day, make a member with a vote token."""
    import json

    day = Path(__file__).resolve().parents[1] / "data" / "hf-daily-papers" / "2025-12-30.json"
    done = subprocess.run([sys.executable, "-c", SEED, str(day)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


VOTE_CHECK = """
import django
django.setup()
from django.db.models import Count, F
from dailypapers.papers.models import Paper
print(Paper.objects.annotate(rows=Count("votes")).exclude(local_upvotes=F("rows")).count(),
      Paper.objects.filter(local_upvotes__gt=0).count())
"""


def vote_mismatches(env):
    """(papers whose vote count differs from their vote rows, papers with local votes)."""
    done = subprocess.run([sys.executable, "-c", VOTE_CHECK], env=env, capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    wrong, voted = done.stdout.split()
    return int(wrong), int(voted)
