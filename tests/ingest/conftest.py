"""Fakes for the arXiv fetchers: a clock that never sleeps and recorded answers."""

import json
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from dailypapers.ingest.http import ArxivHttp, RateLimiter


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(tmp_path, clock):
    return RateLimiter(tmp_path / "rate.lock", 3, clock=clock.time, sleep=clock.sleep)


def query_key(url):
    return tuple(sorted(parse_qsl(urlsplit(str(url)).query, keep_blank_values=True)))


class Recorded:
    """A fake transport answering from recorded (url -> status, body) pairs."""

    def __init__(self):
        self.answers = {}
        self.requests = []

    def add(self, url, body, status=200, headers=None):
        self.answers.setdefault(query_key(url), []).append((status, body, headers or {}))

    def handler(self, request):
        self.requests.append(request)
        answers = self.answers.get(query_key(request.url))
        if not answers:
            return httpx.Response(404, text=f"not recorded: {request.url}")
        status, body, headers = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(status, content=body, headers=headers)

    @property
    def transport(self):
        return httpx.MockTransport(self.handler)


@pytest.fixture
def recorded(sample_data):
    recorded = Recorded()
    for path in sorted((sample_data / "arxiv-api" / "2026").glob("*.json")):
        answer = json.loads(path.read_text())
        recorded.add(answer["url"], answer["body"].encode(), answer["status_code"])
    return recorded


@pytest.fixture
def make_http(limiter, tmp_path):
    def make(recorded, **options):
        options.setdefault("cache_dir", None)
        return ArxivHttp(transport=recorded.transport, limiter=limiter, **options)

    return make
