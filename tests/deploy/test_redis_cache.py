"""DAILYPAPERS_CACHE_URL=redis://...: pages, API answers and rate-limit counts are shared
through a real redis-server; when it stops, the site keeps serving without it, and picks it
up again when it is back."""

import socket
import threading
import time

import pytest
import redis
from django.test import Client

from dailypapers.caching.redis import ForgivingRedisCache


def stored_keys(server):
    return [key.decode() for key in redis.Redis(port=server.port).keys("*")]


def test_it_keeps_values_in_redis(redis_cache, redis_server):
    redis_cache.set("greeting", {"hello": "world"}, 60)
    assert redis_cache.get("greeting") == {"hello": "world"}
    assert redis_cache.add("count", 0, 60) is True
    assert redis_cache.incr("count") == 1
    assert any(key.endswith(":greeting") for key in stored_keys(redis_server))


def test_with_redis_down_the_cache_is_empty_and_forgets(redis_cache, redis_server):
    redis_cache.set("greeting", "hello", 60)
    redis_server.stop()

    assert redis_cache.get("greeting") is None
    assert redis_cache.get("greeting", "default") == "default"
    redis_cache.set("greeting", "again", 60)  # dropped, no error
    assert redis_cache.add("count", 0, 60) is False
    with pytest.raises(ValueError):  # as for a missing key: callers already handle it
        redis_cache.incr("count")
    assert redis_cache.get_many(["greeting", "count"]) == {}
    assert redis_cache.set_many({"a": 1}) == ["a"]
    assert redis_cache.delete("greeting") is False

    redis_server.start()  # same port: the cache finds it again
    redis_cache.set("greeting", "back", 60)
    assert redis_cache.get("greeting") == "back"


def test_with_redis_down_after_a_failure_it_waits_before_asking_again(
    redis_cache, redis_server, monkeypatch
):
    monkeypatch.setattr(ForgivingRedisCache, "RETRY_SECONDS", 60.0)
    redis_server.stop()
    assert redis_cache.get("x") is None  # the failure: Redis is left alone for 60 s
    redis_server.start()
    assert redis_cache.get("x") is None
    redis_cache.set("x", 1)
    assert stored_keys(redis_server) == []  # nothing was asked of Redis meanwhile


@pytest.mark.django_db
def test_pages_and_the_api_are_served_from_redis_and_without_it(
    redis_cache, redis_server, make_paper, settings
):
    make_paper(title="Attention everywhere")
    reader = Client()
    assert reader.get("/").status_code == 200
    assert reader.get("/api/daily_papers").status_code == 200
    assert any(":page:" in key for key in stored_keys(redis_server))

    redis_server.stop()
    settings.API_RATE_ANON = 3  # rate limits degrade to "allow" rather than refusing all
    for _ in range(5):
        assert reader.get("/").status_code == 200
        assert reader.get("/papers/trending").status_code == 200
        assert reader.get("/api/daily_papers").status_code == 200
        assert reader.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_rate_limits_are_counted_in_redis_while_it_is_up(redis_cache, redis_server, settings):
    settings.API_RATE_ANON = 3
    reader = Client()
    answers = [reader.get(f"/api/daily_papers?limit=1&p={i}").status_code for i in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert any("api-rate:ip:" in key for key in stored_keys(redis_server))


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_hung_redis_costs_a_short_timeout_not_a_hung_request(settings, silent_server):
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "dailypapers.caching.redis.ForgivingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent_server}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    started = time.monotonic()
    assert cache.get("anything", "default") == "default"
    for _ in range(20):  # later calls skip Redis for RETRY_SECONDS: no timeout each
        cache.get("anything")
    assert time.monotonic() - started < 2.0
