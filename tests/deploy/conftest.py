import pytest

from .servers import RedisServer


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(settings, monkeypatch, redis_server):
    """The default cache on a real Redis, as DAILYPAPERS_CACHE_URL sets it."""
    from django.core.cache import cache

    from dailypapers.caching.redis import ForgivingRedisCache

    settings.CACHES = {
        "default": {
            "BACKEND": "dailypapers.caching.redis.ForgivingRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    monkeypatch.setattr(ForgivingRedisCache, "RETRY_SECONDS", 0.0)  # ask again at once
    return cache
