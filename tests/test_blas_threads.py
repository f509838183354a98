"""numpy's OpenBLAS must not bring a web worker down when request threads call it at once."""

import os
import subprocess
import sys

# Four threads with the stack size of the web server's (granian's) threads fit the For you
# model at the same time, as four members opening /for-you at once do.
CONCURRENT_RIDGES = """
import threading
import django
import numpy as np
django.setup()
from dailypapers.search.selectors import _ridge

threading.stack_size(2 * 1024 * 1024)
rng = np.random.default_rng(0)

def fit():
    for _ in range(20):
        _ridge(rng.random((12, 256)), rng.random((300, 256)))

threads = [threading.Thread(target=fit) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("fitted")
"""


def test_concurrent_for_you_models_do_not_crash_the_process(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dailypapers.settings"}
    env["DAILYPAPERS_DATA_DIR"] = str(tmp_path)
    env.pop("OPENBLAS_NUM_THREADS", None)  # as a server is started: the package decides
    run = subprocess.run(
        [sys.executable, "-c", CONCURRENT_RIDGES], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip() == "fitted"
