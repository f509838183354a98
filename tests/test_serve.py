"""`dailypapers serve` runs web, task worker and scheduler, and stops them all on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_it_serves_with_worker_and_scheduler_and_stops_them_all(tmp_path):
    port = free_port()
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # the embedded default, in its own data directory
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz").text == "ok\n"
        children = psutil.Process(server.pid).children()
        commands = [" ".join(child.cmdline()) for child in children]
        assert any("db_worker" in command for command in commands), commands
        assert any("crontask" in command for command in commands), commands
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == []
    finally:
        if server.poll() is None:
            server.kill()
    assert (tmp_path / "dailypapers.sqlite3").exists()
