"""Real servers for the deployment and fault tests: redis-server, a throwaway PostgreSQL
cluster, app servers. Each starts on a free loopback port and is stopped by its owner.

A binary that is missing skips the test with the reason, except under CI (CI=true), where
.ci/run installs them all and a missing one is a failure, not a silent skip.
"""

import os
import shutil
import socket
import subprocess
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
