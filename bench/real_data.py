"""What the benchmarks share: the --data DIR option (where the full real data set lives,
described in its README; a fresh clone does not have it), and a free-port check."""

import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LISTINGS = "arxiv-listings-2025-03_2026-07.jsonl.gz"
HF_DAYS = "hf-daily-papers"


def add_option(parser):
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT,
        metavar="DIR",
        help=f"the full real data set (default {DEFAULT})",
    )


def require(folder, *needed):
    """folder, once each needed path is in it; else exit with a message saying what to do."""
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        sys.exit(
            f"{Path(sys.argv[0]).name}: the real data set is not in {folder} "
            f"({', '.join(missing)} missing). Pass --data DIR, a folder laid out like "
            "../shared/data (see its README)."
        )
    return folder


def port_is_free(port):
    """Nothing listens on 127.0.0.1:port (a server left from another run would answer)."""
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0
