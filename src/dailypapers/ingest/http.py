"""Polite HTTP for every arXiv fetcher (query API, OAI-PMH, RSS): design §3.

- One request per settings.ARXIV_MIN_INTERVAL (3 s) and one connection at a time, across
  threads and processes: an fcntl lock file in DATA_DIR holds the time the last request
  ended; whoever holds the lock waits out the interval, asks, writes the time, lets go.
- A descriptive User-Agent with the operator's contact address (settings.ARXIV_CONTACT).
- 429/503 (and other 5xx, and network errors) are retried after Retry-After (seconds or an
  HTTP date) or an exponential back-off; a 400 is reported with arXiv's own message. While
  arXiv says when to come back (Retry-After), it is asked again for up to
  settings.ARXIV_RETRY_FOR seconds (30 minutes) however many tries that takes; answers
  without it get `max_retries` tries.
- Successful answers are cached on disk until the next announcement (arXiv's answers only
  change then): DATA_DIR/arxiv-cache/YYYY-MM-DD/, the day of the last announcement.
- A person waiting on a page (a member's submission), and the worker's later try at it
  (mail may be queued behind it), get `ArxivHttp.interactive()`: short timeouts, no
  retries and a bounded wait for the connection slot, so an unreachable arXiv costs
  seconds; thumbnails also make one try (thumbnails/services.py); ingest jobs keep the
  patient retries above.

The clock, the sleep and the transport are injectable so tests never sleep or go online.
"""

import contextlib
import fcntl
import hashlib
import importlib.metadata
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings

from dailypapers.plural import counted

RETRY_STATUSES = {429, 500, 502, 503, 504}
# ArxivHttp.interactive(): connecting may take 3 s and the answer 6 s more; the slot (another
# fetcher's request, then the polite interval) is waited for 4 s at most.
INTERACTIVE_TIMEOUT = httpx.Timeout(6.0, connect=3.0)
INTERACTIVE_SLOT_WAIT = 4.0


class ArxivError(Exception):
    """arXiv could not answer the request; the message says why, for a person."""


class ArxivRequestError(ArxivError):
    """arXiv refused the request itself (HTTP 4xx, an API error entry, an OAI error)."""


class ArxivUnavailable(ArxivError):
    """arXiv stayed busy or unreachable after the retries."""


class RateLimiter:
    """At most one request per `min_interval` seconds and one at a time, machine-wide.

    `max_wait`: how long to wait for another fetcher to free the slot before giving up with
    ArxivUnavailable (None: as long as it takes, which suits background jobs)."""

    POLL = 0.1  # seconds between tries for the slot when the wait is bounded

    def __init__(
        self, path=None, min_interval=None, *, clock=time.time, sleep=time.sleep, max_wait=None
    ):
        self.path = Path(path or Path(settings.DATA_DIR) / "arxiv-rate.lock")
        self.min_interval = (
            settings.ARXIV_MIN_INTERVAL if min_interval is None else float(min_interval)
        )
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait

    def _acquire(self, lock):
        if self.max_wait is None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # other processes block here: one connection
            return
        deadline = time.monotonic() + self.max_wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ArxivUnavailable(
                        "arXiv is busy answering another request of this site."
                    ) from None
                time.sleep(self.POLL)

    @contextlib.contextmanager
    def slot(self):
        """Hold the one connection slot; returns once the interval since the last ended."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as lock:
            self._acquire(lock)
            try:
                lock.seek(0)
                try:
                    last = float(lock.read().strip() or 0)
                except ValueError:
                    last = 0.0
                wait = last + self.min_interval - self.clock()
                if wait > 0:
                    self.sleep(min(wait, self.min_interval))
                yield
            finally:
                lock.seek(0)
                lock.truncate()
                lock.write(repr(self.clock()))
                lock.flush()
                fcntl.flock(lock, fcntl.LOCK_UN)


def user_agent():
    try:
        version = importlib.metadata.version("dailypapers")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return (
        f"dailypapers/{version} (+{settings.SITE_URL}; mailto:{settings.ARXIV_CONTACT}) "
        f"httpx/{httpx.__version__}"
    )


class ArxivHttp:
    """GET with politeness, retries and a day cache. Use one per job, or the default."""

    def __init__(
        self,
        *,
        transport=None,
        limiter=None,
        cache_dir="default",
        max_retries=4,
        backoff=5.0,
        timeout=60.0,
        retry_for=None,
    ):
        self.limiter = limiter or RateLimiter()
        if cache_dir == "default":
            cache_dir = Path(settings.DATA_DIR) / "arxiv-cache"
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.max_retries = max_retries
        self.backoff = backoff
        self.retry_for = settings.ARXIV_RETRY_FOR if retry_for is None else float(retry_for)
        self.client = httpx.Client(
            transport=transport,
            headers={"User-Agent": user_agent()},
            timeout=timeout,
            follow_redirects=True,
        )
        self.requests = 0  # answers actually fetched (cache hits excluded)

    @classmethod
    def interactive(cls, **options):
        """For a request a person waits on: it answers, or gives up, within seconds."""
        options.setdefault("limiter", RateLimiter(max_wait=INTERACTIVE_SLOT_WAIT))
        options.setdefault("timeout", INTERACTIVE_TIMEOUT)
        options.setdefault("max_retries", 0)
        options.setdefault("retry_for", 0)
        return cls(**options)

    def get(self, url, params=None):
        """The body (bytes) of a 200 answer. Raises ArxivRequestError / ArxivUnavailable."""
        full = f"{url}?{urlencode(params)}" if params else url
        cached = self._cache_path(full)
        if cached and cached.exists():
            return cached.read_bytes()
        body = self._fetch(full)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(body)
        return body

    def forget(self, url, params=None):
        """Drop a cached answer (an empty page that should be asked again)."""
        cached = self._cache_path(f"{url}?{urlencode(params)}" if params else url)
        if cached:
            cached.unlink(missing_ok=True)

    def _fetch(self, url):
        problem = ""
        tries = retries = 0  # retries: those without a Retry-After, bounded by max_retries
        waited = 0.0
        while True:
            with self.limiter.slot():
                tries += 1
                try:
                    response = self.client.get(url)
                    self.requests += 1
                except httpx.TransportError as exc:
                    response, problem = None, f"network error: {exc.__class__.__name__}: {exc}"
            if response is not None:
                if response.status_code == 200:
                    return response.content
                if response.status_code not in RETRY_STATUSES:
                    raise ArxivRequestError(
                        f"arXiv answered HTTP {response.status_code} for {url}: "
                        f"{error_message(response.content) or response.reason_phrase}"
                    )
                problem = f"HTTP {response.status_code}"
            told = self._retry_after(response)
            if told is not None:
                if waited + told > self.retry_for:
                    break
                delay = told
            else:
                if retries == self.max_retries:
                    break
                delay = self.backoff * 2**retries
                retries += 1
            self.limiter.sleep(delay)
            waited += delay
        raise ArxivUnavailable(
            f"arXiv did not answer {url} after {counted(tries, 'try', 'tries')} in {waited:.0f} s "
            f"(last: {problem}); try again later."
        )

    @staticmethod
    def _retry_after(response):
        """The seconds arXiv asked us to wait (Retry-After), or None when it did not say."""
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            header = header.strip()
            if header.isdigit():
                return min(float(header), 3600.0)
            with contextlib.suppress(TypeError, ValueError):
                when = parsedate_to_datetime(header)
                return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), 3600.0)
        return None

    def _cache_path(self, url):
        if not self.cache_dir:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self.cache_dir / announcement_cycle().isoformat() / key

    def close(self):
        self.client.close()


def announcement_cycle(now=None):
    """The "day" of arXiv's answers: they change when new papers are announced, at 20:00
    US Eastern, so a cached answer is good from one announcement to the next."""
    eastern = (now or datetime.now(UTC)).astimezone(ZoneInfo("America/New_York"))
    return (eastern - timedelta(hours=20)).date()


def error_message(body):
    """arXiv's own words in an error answer (Atom error entry or OAI <error>), if any."""
    from lxml import etree

    try:
        root = etree.fromstring(body, parser=safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        return body[:200].decode("utf-8", "replace").strip() if body else ""
    texts = root.xpath(
        "//*[local-name()='entry'][contains(*[local-name()='id'], 'api/errors')]"
        "/*[local-name()='summary']/text() | //*[local-name()='error']/text()"
    )
    return " ".join(t.strip() for t in texts if t.strip())


def safe_parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
