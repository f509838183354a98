"""Attempts counted per account and per IP address, for the forms an attacker tries first.

Sign-in counts wrong passwords; sign-up, password reset and /subscribe count every
attempt. The counts live in the database (one row per counter, bumped by one atomic
upsert), not in the in-process cache: `serve` runs one process per core and a deployment
runs many app servers, and a guesser must meet the same count in all of them, with or
without Redis. Failed forms are rare and slow anyway (a password hash costs more than
the write). Rows hold a hash of the address or name, never the address itself.

A counter that reaches its limit refuses until its window ends: never a permanent
lockout. A password reset clears the account's sign-in count (docs/security.md).
"""

import hashlib
import ipaddress
import math
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from .models import Throttle


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int  # allowed in one window; 0 turns the limit off
    seconds: int

    @classmethod
    def named(cls, name):
        attempts, seconds = settings.THROTTLES[name]
        return cls(name, attempts, seconds)


def client_ip(request):
    """The caller's address: REMOTE_ADDR, or the X-Forwarded-For entry that our own
    proxies added (DAILYPAPERS_PROXY_COUNT of them; anything further left is the
    client's to forge). IPv6 callers are counted by /64, the block one host usually has."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NINJA_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(proxies, len(hops))]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _bucket(limit, ident):
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{ident.strip().lower()}".encode())
    return f"{limit.name}:{digest.hexdigest()[:40]}"


def _forget_expired(now):
    # Old counters are dead weight only; one hit in a hundred sweeps them.
    if random.random() < 0.01:
        Throttle.objects.filter(expires_at__lte=now).delete()


def throttle_hit(limit, ident):
    """Count one attempt; returns the count in the current window (1 after a new window)."""
    if not limit.attempts:
        return 0
    now = time.time()
    table = connection.ops.quote_name(Throttle._meta.db_table)
    # One statement on SQLite and PostgreSQL alike: atomic under any number of processes.
    sql = (
        f"INSERT INTO {table} (bucket, hits, expires_at) VALUES (%s, 1, %s) "
        f"ON CONFLICT (bucket) DO UPDATE SET "
        f"hits = CASE WHEN {table}.expires_at <= %s THEN 1 ELSE {table}.hits + 1 END, "
        f"expires_at = CASE WHEN {table}.expires_at <= %s THEN excluded.expires_at "
        f"ELSE {table}.expires_at END "
        f"RETURNING hits"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_bucket(limit, ident), now + limit.seconds, now, now])
        (hits,) = cursor.fetchone()
    _forget_expired(now)
    return hits


def throttle_wait(limit, ident):
    """Seconds until `ident` may try again (0: it may try now)."""
    if not limit.attempts:
        return 0
    now = time.time()
    row = (
        Throttle.objects.filter(bucket=_bucket(limit, ident), expires_at__gt=now)
        .values_list("hits", "expires_at")
        .first()
    )
    if row is None or row[0] < limit.attempts:
        return 0
    return math.ceil(row[1] - now)


def throttle_clear(limit, ident):
    Throttle.objects.filter(bucket=_bucket(limit, ident)).delete()


def attempt_allowed(request, action, address):
    """Count one attempt at `action` ("signup", "reset", "subscribe") from this caller and
    for this address; the seconds to wait when either count is over its limit, else 0."""
    checks = [(Limit.named(f"{action}-ip"), client_ip(request))]
    if address:
        checks.append((Limit.named(f"{action}-address"), address))
    wait = 0
    for limit, ident in checks:
        if throttle_hit(limit, ident) > limit.attempts:
            wait = max(wait, throttle_wait(limit, ident), 1)
    return wait


def wait_message(seconds, what):
    """ "Too many <what>. Try again in N minutes." for a form's error."""
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many {what}. Try again in {minutes} {unit}."
