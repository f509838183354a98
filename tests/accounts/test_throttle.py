"""Sign-in, sign-up, password reset and /subscribe refuse guessers and floods, per account or
address and per client IP; the owner always gets back in (accounts/throttle.py)."""

import re
import threading

import pytest
import time_machine
from django.db import connection

from dailypapers.accounts.models import Throttle
from dailypapers.accounts.throttle import Limit, throttle_hit

WRONG = {"username": "alice", "password": "not the password"}
RIGHT = {"username": "alice", "password": "correct horse 1"}
REFUSED = "Too many wrong passwords"


def sign_in(client, data, ip="203.0.113.7", **headers):
    return client.post("/accounts/login/", data, REMOTE_ADDR=ip, **headers)


def test_it_refuses_a_guesser_after_ten_wrong_passwords(client, alice):
    for _ in range(10):
        response = sign_in(client, WRONG)
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    # The eleventh try is refused without checking it, even with the right password.
    refused = sign_in(client, RIGHT)
    assert refused.status_code == 429
    assert REFUSED in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address, another case of the name: the account is still locked.
    assert sign_in(client, {**RIGHT, "username": "ALICE"}, ip="198.51.100.9").status_code == 429


def test_it_lets_the_owner_in_again_after_the_window(client, alice):
    with time_machine.travel("2026-12-01 10:00Z", tick=False) as clock:
        for _ in range(10):
            sign_in(client, WRONG)
        assert sign_in(client, RIGHT).status_code == 429
        clock.shift(14 * 60)
        assert "Try again in 1 minute" in sign_in(client, RIGHT).content.decode()
        clock.shift(61)
        assert sign_in(client, RIGHT).status_code == 302


def test_a_password_reset_ends_the_lock(client, alice, mailoutbox):
    for _ in range(10):
        sign_in(client, WRONG)
    assert sign_in(client, RIGHT).status_code == 429
    client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body)[1]
    form = client.get(link, follow=True)
    new = "a brand new phrase 9"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert sign_in(client, {"username": "alice", "password": new}).status_code == 302


def test_a_right_password_starts_the_accounts_count_again(client, alice):
    for _ in range(9):
        sign_in(client, WRONG)
    assert sign_in(client, RIGHT).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(9):
        assert sign_in(client, WRONG).status_code == 200
    assert sign_in(client, RIGHT).status_code == 302


def test_it_counts_wrong_passwords_per_address_across_accounts(client, alice, bob, settings):
    settings.THROTTLES = {**settings.THROTTLES, "signin-ip": (4, 900)}
    for name in ["alice", "bob", "carol", "dave"]:
        sign_in(client, {"username": name, "password": "guess"})
    assert sign_in(client, {"username": "bob", "password": "battery staple 2"}).status_code == 429
    # The same password from another network is fine: the lock is on the address.
    other = sign_in(client, {"username": "bob", "password": "battery staple 2"}, ip="192.0.2.1")
    assert other.status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_count(client, alice, settings):
    settings.THROTTLES = {**settings.THROTTLES, "signin-ip": (3, 900)}
    for n in range(3):
        sign_in(
            client, {"username": f"x{n}", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        )
    assert sign_in(client, RIGHT, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_behind_our_proxy_it_counts_the_address_the_proxy_saw(client, alice, settings):
    settings.THROTTLES = {**settings.THROTTLES, "signin-ip": (3, 900)}
    settings.NINJA_NUM_PROXIES = 1
    proxy = "10.0.0.2"  # every request arrives from the proxy
    for n in range(3):
        sign_in(
            client,
            {"username": f"x{n}", "password": "guess"},
            ip=proxy,
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.1",
        )
    assert sign_in(client, RIGHT, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert sign_in(client, RIGHT, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_the_admin_sign_in_counts_too(client, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.org", "root pass 1")
    for _ in range(10):
        client.post("/admin/login/", {"username": "root", "password": "guess"})
    page = client.post("/admin/login/", {"username": "root", "password": "root pass 1"})
    assert REFUSED in page.content.decode() and "_auth_user_id" not in client.session


def test_it_limits_password_reset_mails_per_address(client, alice, mailoutbox):
    for _ in range(5):
        assert (
            client.post("/accounts/password_reset/", {"email": "alice@example.org"}).status_code
            == 302
        )
    refused = client.post("/accounts/password_reset/", {"email": "Alice@example.org"})
    assert refused.status_code == 429 and "Too many reset requests" in refused.content.decode()
    assert len(mailoutbox) == 5


def test_it_limits_sign_ups_per_network(client, db):
    for n in range(10):
        client.post("/accounts/signup/", {"username": f"bot{n}", "email": f"bot{n}@example.org"})
    refused = client.post("/accounts/signup/", {"username": "human", "email": "h@example.org"})
    assert refused.status_code == 429 and "Too many sign-up attempts" in refused.content.decode()


def test_it_limits_subscription_requests_per_address_and_network(client, db, settings):
    for _ in range(5):
        assert (
            client.post(
                "/subscribe", {"email": "ada@example.org", "frequency": "daily"}
            ).status_code
            == 200
        )
    refused = client.post("/subscribe", {"email": "ada@example.org", "frequency": "daily"})
    assert (
        refused.status_code == 429 and "Too many subscription requests" in refused.content.decode()
    )
    settings.THROTTLES = {**settings.THROTTLES, "subscribe-ip": (8, 3600)}
    for n in range(2):
        client.post("/subscribe", {"email": f"n{n}@example.org", "frequency": "daily"})
    assert (
        client.post("/subscribe", {"email": "z@example.org", "frequency": "daily"}).status_code
        == 429
    )


def test_a_limit_of_zero_turns_it_off(client, alice, settings):
    settings.THROTTLES = {**settings.THROTTLES, "signin-account": (0, 900), "signin-ip": (0, 900)}
    for _ in range(15):
        sign_in(client, WRONG)
    assert sign_in(client, RIGHT).status_code == 302


def test_it_stores_no_address_or_name(client, alice):
    sign_in(client, WRONG)
    buckets = " ".join(Throttle.objects.values_list("bucket", flat=True))
    assert "alice" not in buckets and "203.0.113.7" not in buckets


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_each_counted_once():
    """The upsert is atomic: 4 threads x 25 hits count 1..100, none lost or repeated."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "the in-memory test database answers 'table is locked' at once instead of waiting "
            "(a file database waits its busy timeout); CI runs this on PostgreSQL"
        )
    limit = Limit("signin-account", 1000, 900)
    counts, errors = [], []

    def hammer():
        try:
            counts.extend(throttle_hit(limit, "alice") for _ in range(25))
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(counts) == list(range(1, 101))
