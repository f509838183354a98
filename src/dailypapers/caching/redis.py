"""Django's RedisCache, made to degrade instead of failing when Redis is away.

Everything kept in the cache can be lost: cached pages are made again, and rate-limit
counts start again from zero. So when Redis is down or stops answering, the site should
go on serving without them rather than answer 500. ForgivingRedisCache behaves as an
empty cache that keeps nothing while Redis cannot be reached: reads miss, writes are
dropped, and incr() raises ValueError as for a key that is not there (which callers of
Django's cache API already handle). After a failure it does not ask Redis again for
RETRY_SECONDS, so that an outage costs one connection timeout per process every few
seconds, not one per cache call.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class RedisUnavailable(Exception):
    """Redis could not be reached just now (inside this module only)."""


class ForgivingRedisCache(RedisCache):
    RETRY_SECONDS = 2.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, method, *args, **kwargs):
        if time.monotonic() < self._down_until:
            raise RedisUnavailable
        try:
            result = getattr(super(), method)(*args, **kwargs)
        except UNREACHABLE as exc:
            self._went_down(exc)
            raise RedisUnavailable from exc
        if self._down_until:
            self._came_back()
        return result

    def _went_down(self, exc):
        with self._lock:
            first = not self._down_until
            self._down_until = time.monotonic() + self.RETRY_SECONDS
        if first:
            logger.warning("Redis cache unreachable (%s): serving without it", exc)

    def _came_back(self):
        with self._lock:
            if not self._down_until:
                return
            self._down_until = 0.0
        logger.warning("Redis cache reachable again")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("add", key, value, timeout, version)
        except RedisUnavailable:
            return False

    def get(self, key, default=None, version=None):
        try:
            return self._call("get", key, default, version)
        except RedisUnavailable:
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            self._call("set", key, value, timeout, version)
        except RedisUnavailable:
            pass

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("touch", key, timeout, version)
        except RedisUnavailable:
            return False

    def delete(self, key, version=None):
        try:
            return self._call("delete", key, version)
        except RedisUnavailable:
            return False

    def get_many(self, keys, version=None):
        try:
            return self._call("get_many", keys, version)
        except RedisUnavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._call("has_key", key, version)
        except RedisUnavailable:
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return self._call("incr", key, delta, version)
        except RedisUnavailable:
            raise ValueError(f"Key '{key}' not found (the Redis cache is unreachable)") from None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("set_many", data, timeout, version)
        except RedisUnavailable:
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            self._call("delete_many", keys, version)
        except RedisUnavailable:
            pass

    def clear(self):
        try:
            return self._call("clear")
        except RedisUnavailable:
            return False
