"""Public pages come from the cache for readers who are not signed in, keyed on the site's
generation: a vote, a new entry or an edit shows at once; 304 for a current copy."""

import datetime as dt
import gzip

import pytest
import time_machine
from django.test import Client

from dailypapers.caching import generation, middleware

from .conftest import DAY
from .test_votes import vote

PAGES = ["/", f"/papers/date/{DAY}", "/papers/week/2026-W48", "/papers/month/2026-11",
         "/papers/trending", "/feeds/daily.atom"]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_a_public_page_is_rendered_once_then_served_from_the_cache(
    client, day_of_papers, url, django_assert_max_num_queries
):
    first = client.get(url)
    assert first.status_code == 200
    # Nothing but the generation, which is read on the driver's own cursor (not counted).
    with django_assert_max_num_queries(0):
        second = client.get(url)
    assert second.content == first.content
    assert int(second["Content-Length"]) == len(second.content)  # else it goes chunked
    assert second["ETag"] == first["ETag"] and second["Last-Modified"]


def test_a_current_copy_gets_304(client, day_of_papers):
    page = client.get("/")
    by_etag = client.get("/", headers={"If-None-Match": page["ETag"]})
    by_date = client.get("/", headers={"If-Modified-Since": page["Last-Modified"]})
    assert by_etag.status_code == 304 and by_date.status_code == 304
    assert by_etag.content == b""


@pytest.mark.parametrize("url", ["/", "/feeds/trending.rss"])
def test_a_reader_who_accepts_gzip_gets_the_copy_gzipped(
    client, day_of_papers, url, django_assert_max_num_queries
):
    plain = client.get(url)
    with django_assert_max_num_queries(0):  # compressed once, when it was stored
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 2
    assert packed["ETag"] != plain["ETag"]  # two representations, two tags
    assert "Accept-Encoding" in packed["Vary"] and "Accept-Encoding" in plain["Vary"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed["ETag"]})
    assert again.status_code == 304


def test_a_members_copy_is_never_gzipped(client, alice, day_of_papers):
    """It holds their form token: compressed beside text an attacker chose, its length
    would leak it (BREACH)."""
    client.force_login(alice)
    client.get("/")  # sets the CSRF cookie: not kept
    for _ in range(2):  # made, then from the cache
        page = client.get(f"/papers/date/{DAY}", headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in page and "Sign out" in page.content.decode()


def test_a_vote_shows_on_the_cached_pages_at_once(client, alice, day_of_papers):
    paper = day_of_papers[0]  # 5 imported upvotes
    reader = Client()
    before = reader.get(f"/papers/{paper.arxiv_id}")
    assert '<span class="count">5</span>' in before.content.decode()

    client.force_login(alice)
    vote(client, paper)

    after = reader.get(f"/papers/{paper.arxiv_id}", headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and '<span class="count">6</span>' in after.content.decode()
    assert '<span class="count">6</span>' in reader.get(f"/papers/date/{DAY}").content.decode()


def test_a_new_entry_and_an_edit_show_at_once(client, day_of_papers, make_paper, feature):
    assert "Fresh paper" not in client.get(f"/papers/date/{DAY}").content.decode()
    feature(make_paper(title="Fresh paper"))
    assert "Fresh paper" in client.get(f"/papers/date/{DAY}").content.decode()

    paper = day_of_papers[1]
    paper.title = "A better title"
    paper.save()
    assert "A better title" in client.get(f"/papers/{paper.arxiv_id}").content.decode()


def test_a_member_sees_their_own_vote_and_never_the_anonymous_copy(client, alice, day_of_papers):
    paper = day_of_papers[0]
    Client().get(f"/papers/date/{DAY}")  # an anonymous copy is in the cache
    client.force_login(alice)
    vote(client, paper)

    html = client.get(f"/papers/date/{DAY}").content.decode()
    assert 'class="upvote on"' in html and "Sign out" in html
    assert "Sign out" not in Client().get(f"/papers/date/{DAY}").content.decode()


def test_the_generation_moves_with_every_change(day_of_papers, alice):
    from dailypapers.papers.services import vote_cast

    before, _ = generation.current()
    vote_cast(user=alice, paper=day_of_papers[0])
    assert generation.current()[0] > before


def test_pages_that_set_cookies_or_fail_are_not_kept(client, day_of_papers):
    assert client.get("/papers/2999.99999").status_code == 404
    assert client.get("/accounts/login/").status_code == 200  # sets the CSRF cookie
    from django.core.cache import cache

    value, _ = generation.current()
    kept = f"page:{middleware.LAYOUT}:{value}:"
    assert not [key for key in cache._cache if kept in str(key)]  # noqa: SLF001


def test_a_member_gets_their_own_copy_and_never_another_members(
    client, alice, bob, day_of_papers, django_assert_max_num_queries
):
    client.force_login(alice)
    client.get("/")  # the first page a browser gets sets its CSRF cookie: never kept
    first = client.get(f"/papers/date/{DAY}")
    with django_assert_max_num_queries(1):  # the generation: no session, no member, no page
        again = client.get(f"/papers/date/{DAY}")
    assert again.content == first.content and "private" in again["Cache-Control"]

    other = Client()
    other.force_login(bob)
    page = other.get(f"/papers/date/{DAY}").content.decode()
    assert "bob" in page and "alice" not in page


def test_a_page_showing_a_one_time_message_is_not_kept(client, alice, day_of_papers):
    paper = day_of_papers[0]
    client.force_login(alice)
    client.get(f"/papers/{paper.arxiv_id}")  # the member's copy, before the message
    response = client.post(f"/papers/{paper.arxiv_id}/feedback", {"kind": "saved"})

    shown = client.get(response["Location"]).content.decode()
    assert 'class="messages"' in shown  # the page after the redirect says what was done
    assert 'class="messages"' not in client.get(response["Location"]).content.decode()


def test_a_copy_made_for_a_session_is_never_served_after_signing_out(client, alice, day_of_papers):
    client.force_login(alice)
    client.get("/")  # the browser's CSRF cookie
    assert "Sign out" in client.get(f"/papers/date/{DAY}").content.decode()  # now kept
    stolen = Client()
    for name, morsel in client.cookies.items():  # the session and CSRF cookies, as they were
        stolen.cookies[name] = morsel.value
    client.logout()

    assert "Sign out" not in stolen.get(f"/papers/date/{DAY}").content.decode()


def test_a_copy_is_never_served_past_its_sessions_expiry(client, alice, day_of_papers):
    client.force_login(alice)
    session = client.session
    session.set_expiry(2)
    session.save()
    client.get("/")  # the browser's CSRF cookie
    assert "Sign out" in client.get(f"/papers/date/{DAY}").content.decode()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        assert "Sign out" not in client.get(f"/papers/date/{DAY}").content.decode()


def test_a_session_without_a_member_is_not_kept(client, day_of_papers):
    client.cookies["sessionid"] = "no-such-session"
    client.get(f"/papers/date/{DAY}")
    from django.core.cache import cache

    value, _ = generation.current()
    kept = f"page:{middleware.LAYOUT}:{value}:"
    assert not [key for key in cache._cache if kept in str(key)]  # noqa: SLF001
