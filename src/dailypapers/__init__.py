"""dailypapers: a self-hosted "daily papers" service."""

import os

# One BLAS thread per caller (search/apps.py says why). Set before numpy loads OpenBLAS:
# this package is imported first by every entry point (the CLI, wsgi.py, the task worker).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
