"""bench/load.py in a small form: the whole topology (nginx, two app servers, Redis, two
workers, the scheduler) on a PostgreSQL cluster of its own, 10 members for 20 s on the
realistic mix: no request fails, and every vote count equals its vote rows afterwards."""

import socket
import subprocess
import sys

import pytest

from tests.conftest import REPO

from .servers import PostgresCluster, free_port, need_binary


def port_is_free(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_base_port():
    """A port p with p, p+1, p+2 and p+79 free (nginx, two app servers, Redis)."""
    for _ in range(50):
        base = free_port()
        if base + 79 < 65536 and all(port_is_free(base + n) for n in (0, 1, 2, 79)):
            return base
    pytest.fail("no four free ports")


@pytest.mark.slow  # ~2 min: a cluster, the sample loaded and indexed, 20 s of load
def test_the_topology_serves_the_mix_without_errors_and_counts_votes_right():
    need_binary("nginx", "apt-get install nginx-light")
    need_binary("redis-server", "apt-get install redis-server")
    cluster = PostgresCluster()
    cluster.init().start()
    try:
        done = subprocess.run(
            [sys.executable, str(REPO / "bench" / "load.py"), "--database-url", cluster.url,
             "--fill", "sample", "--users", "10", "--seconds", "20", "--anchor-seconds", "0",
             "--port", str(free_base_port())],  # fmt: skip
            cwd=REPO, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        cluster.remove()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout.split("run ", 1)[1]
    # On a busy machine 20 s may hold no vote at all: the pages and the total must be there.
    for kind in ("page", "Aggregated"):
        assert f"topology  {kind}" in table
    assert "0 with a count different from their vote rows" in done.stdout
