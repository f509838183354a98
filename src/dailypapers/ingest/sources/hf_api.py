"""Daily entries from any server that speaks the Hugging Face papers API (mirroring).

`dailypapers ingest hf-daily --api URL --date D` (or --week, --month, --since) asks
`URL/api/daily_papers?date=D&p=N&limit=100` for each day of the period, page by page, and
feeds the entries through the same parser and upsert as the JSON files (hf_daily.py), so
a day mirrored from huggingface.co or from another dailypapers instance is stored exactly
as if its JSON file had been imported. One request per day and page: the day an entry
belongs to is then the day asked for, whatever its timestamps say.

Politeness: at most one request per `min_interval` seconds (1 s by default, one
connection), a User-Agent that names us, retries with back-off on 429/5xx/network errors
(Retry-After honoured), and conditional requests: the ETag of every answer is kept on
disk, so asking again for an unchanged day costs the server a 304.
"""

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import httpx
from django.conf import settings

from ..http import user_agent
from ..records import Rejected
from .hf_daily import parse_hf_entry

PAGE_SIZE = 100  # the most the API gives per page
MAX_PAGES = 50  # 5,000 entries a day is far beyond any real day: stop there
RETRY_STATUSES = {429, 500, 502, 503, 504}


class MirrorError(Exception):
    """The other server could not answer; the message says why, for a person."""


class HfApiClient:
    def __init__(
        self,
        base_url,
        *,
        transport=None,
        min_interval=1.0,
        max_retries=4,
        backoff=2.0,
        timeout=30.0,
        cache_dir="default",
        sleep=time.sleep,
        clock=time.monotonic,
    ):
        base_url = base_url.rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise MirrorError(f"{base_url!r} is not an http(s) URL")
        self.base_url = base_url
        self.min_interval = min_interval
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        if cache_dir == "default":
            cache_dir = Path(settings.DATA_DIR) / "hf-api-cache"
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.client = httpx.Client(
            transport=transport,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=True,
        )
        self._last_request = None
        self.requests = 0
        self.not_modified = 0

    def close(self):
        self.client.close()

    def daily_records(self, days):
        """DailyRecord | Rejected for every entry of these days, day by day."""
        for day in days:
            for index, obj in enumerate(self.day_entries(day)):
                try:
                    yield parse_hf_entry(obj, day=day)
                except (ValueError, TypeError, AttributeError) as exc:
                    yield Rejected(f"{self.base_url} {day}[{index}]", str(exc))

    def day_entries(self, day):
        """The raw entries of one day, every page."""
        for page in range(MAX_PAGES):
            params = {"date": day.isoformat(), "p": page, "limit": PAGE_SIZE}
            entries = self.get_json("/api/daily_papers", params)
            if not isinstance(entries, list):
                raise MirrorError(f"{self.base_url} did not answer a list for {day}")
            yield from entries
            if len(entries) < PAGE_SIZE:
                return

    def get_json(self, path, params):
        url = str(httpx.URL(self.base_url + path, params=params))
        cached = self._cached(url)
        headers = {"If-None-Match": cached["etag"]} if cached else {}
        response = self._get(url, headers)
        if response.status_code == 304 and cached:
            self.not_modified += 1
            return cached["body"]
        try:
            body = response.json()
        except ValueError:
            raise MirrorError(f"{url} did not answer JSON") from None
        if response.headers.get("ETag"):
            self._store(url, response.headers["ETag"], body)
        return body

    def _get(self, url, headers):
        problem = ""
        for attempt in range(self.max_retries + 1):
            self._wait_turn()
            try:
                response = self.client.get(url, headers=headers)
                self.requests += 1
            except httpx.TransportError as exc:
                response, problem = None, f"network error: {exc.__class__.__name__}"
            if response is not None:
                if response.status_code in (200, 304):
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise MirrorError(
                        f"{url} answered HTTP {response.status_code}: {_message(response)}"
                    )
                problem = f"HTTP {response.status_code}"
            if attempt < self.max_retries:
                self.sleep(self._retry_delay(response, attempt))
        raise MirrorError(f"{url} did not answer after {self.max_retries + 1} tries ({problem})")

    def _wait_turn(self):
        now = self.clock()
        if self._last_request is not None:
            wait = self._last_request + self.min_interval - now
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _retry_delay(self, response, attempt):
        header = (response.headers.get("Retry-After") or "") if response is not None else ""
        if header.strip().isdigit():
            return min(float(header), 600.0)
        return self.backoff * 2**attempt

    def _cache_path(self, url):
        if not self.cache_dir:
            return None
        return self.cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")

    def _cached(self, url):
        path = self._cache_path(url)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except ValueError:
            return None

    def _store(self, url, etag, body):
        path = self._cache_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"etag": etag, "body": body}))


def _message(response):
    try:
        return response.json().get("error") or response.reason_phrase
    except (ValueError, AttributeError):
        return response.reason_phrase


def period_days(*, date=None, week=None, month=None, since=None, today=None):
    """The days to mirror for one of --date D, --week YYYY-Www, --month YYYY-MM, --since D."""
    from dailypapers.papers.selectors import iso_week_bounds, month_bounds

    today = today or dt.date.today()
    if date:
        first = last = date
    elif week:
        year, _, number = week.partition("-W")
        first, last = iso_week_bounds(int(year), int(number))
    elif month:
        year, _, number = month.partition("-")
        first, last = month_bounds(int(year), int(number))
    elif since:
        first, last = since, today
    else:
        raise ValueError("give --date, --week, --month or --since")
    last = min(last, today)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
