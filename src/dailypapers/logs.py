"""Log filters for settings.LOGGING: what would drown the lines that matter."""

import logging


class RequestNoise(logging.Filter):
    """On django.request: no line for a request refused by a rate limit (429: a client
    over its limit sends thousands a minute, each already answered with Retry-After), and
    no traceback for a 503 the database's outage caused (web/errors.py logs one line for
    it). Other 4xx and 5xx are logged as Django logs them."""

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status == 429:
            return False
        if status == 503 and record.exc_info:
            from dailypapers.workers.outage import OUTAGE_ERRORS

            return not isinstance(record.exc_info[1], OUTAGE_ERRORS)
        return True
