"""Argument types of the commands, for argparse's `type=`.

A bad value is a usage error, as for any Unix tool: argparse prints the usage and
"dailypapers COMMAND: error: argument --date: 'x' is not a date like 2026-11-20", and the
command exits with 2 before it touches the database.
"""

import argparse
import datetime as dt
import re


def a_date(text):
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-20") from None


def a_week(text):
    if not re.fullmatch(r"\d{4}-W\d{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a week like 2026-W07")
    return text


def a_month(text):
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-02")
    return text


def a_count(text):
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def a_port(text):
    """A TCP port to listen on."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)
