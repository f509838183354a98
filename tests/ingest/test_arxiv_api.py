import json

import httpx
import pytest

from dailypapers.ingest.http import ArxivRequestError, ArxivUnavailable, user_agent
from dailypapers.ingest.records import PaperRecord, Rejected
from dailypapers.ingest.sources import arxiv_api
from dailypapers.ingest.upsert import upsert_records
from dailypapers.papers.arxiv_ids import InvalidArxivId
from dailypapers.papers.models import Paper

from .conftest import Recorded

API = "https://export.arxiv.org/api/query"
FIRST_PAGE = "q_testing_s0_m10_bc5a6c384fe9.json"


def test_it_fetches_papers_by_id_with_their_metadata(recorded, make_http):
    records = arxiv_api.fetch_by_ids(["1605.08386"], http=make_http(recorded))

    [paper] = records
    assert paper.arxiv_id == "1605.08386" and paper.version == 1
    assert paper.title == "Heat-bath random walks with Markov bases"
    assert paper.authors == [{"name": "Caprice Stanley"}, {"name": "Tobias Windisch"}]
    assert paper.categories == ["math.CO", "math.ST"] and paper.primary_category == "math.CO"
    assert paper.comment == "20 pages, 3 figures"
    assert paper.published_at.isoformat() == "2016-05-26T17:59:46+00:00"
    assert recorded.requests[0].headers["User-Agent"] == user_agent()
    assert "mailto:" in user_agent()


def test_it_handles_old_style_ids_and_versions(recorded, make_http):
    http = make_http(recorded)

    [old] = arxiv_api.fetch_by_ids(["astro-ph/0601001"], http=http)

    assert old.arxiv_id == "astro-ph/0601001"
    assert old.version >= 1 and old.versions[0]["version"] == 1


def test_it_leaves_unknown_ids_out(recorded, make_http):
    assert list(arxiv_api.query(id_list=["0000.0000"], http=make_http(recorded))) == []
    both = arxiv_api.fetch_by_ids(["0808.05394", "1707.08567"], http=make_http(recorded))
    assert [r.arxiv_id for r in both] == ["1707.08567"]


def test_it_reports_an_http_400_with_arxivs_message(recorded, make_http):
    with pytest.raises(ArxivRequestError, match="incorrect id format for abc"):
        list(arxiv_api.query(id_list=["abc"], http=make_http(recorded)))


def test_it_rejects_a_malformed_id_before_asking():
    with pytest.raises(InvalidArxivId):
        arxiv_api.fetch_by_ids(["not an id"], http=None)


def test_it_pages_through_a_query_politely(recorded, make_http, clock):
    records = list(
        arxiv_api.query(search_query="testing", page_size=10, limit=60, http=make_http(recorded))
    )

    starts = [dict(r.url.params)["start"] for r in recorded.requests]
    assert starts == ["0", "10", "20", "30", "40", "50"]
    assert len(records) == 60 and all(isinstance(r, PaperRecord) for r in records)
    assert len({r.arxiv_id for r in records}) == 60
    assert clock.sleeps == [3.0] * 5  # one request per 3 s, never faster


def test_it_parses_the_old_2016_answers(sample_data):
    body = (sample_data / "arxiv-api/2016/search_query=au_del_maestro.xml").read_bytes()

    total, records = arxiv_api.parse_feed(body)

    assert total > len(records) > 0
    assert all(isinstance(r, PaperRecord) for r in records)
    assert all("\n" not in r.title for r in records)


def test_it_retries_an_empty_page_then_goes_on(make_http, sample_data):
    page = json.loads((sample_data / "arxiv-api/2026" / FIRST_PAGE).read_text())
    empty = page["body"].split("<entry>")[0] + "</feed>"
    recorded = Recorded()
    recorded.add(page["url"], empty.encode())
    recorded.add(page["url"], page["body"].encode())

    records = list(
        arxiv_api.query(search_query="testing", page_size=10, limit=10, http=make_http(recorded))
    )

    assert len(records) == 10 and len(recorded.requests) == 2


def test_it_stops_with_a_clear_rejection_after_empty_pages(make_http, sample_data):
    page = json.loads((sample_data / "arxiv-api/2026" / FIRST_PAGE).read_text())
    recorded = Recorded()
    recorded.add(page["url"], (page["body"].split("<entry>")[0] + "</feed>").encode())

    [item] = arxiv_api.query(
        search_query="testing", page_size=10, limit=10, http=make_http(recorded)
    )

    assert isinstance(item, Rejected) and "empty pages" in item.reason


def retrying_transport(statuses, final_body, headers):
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) <= len(statuses):
            return httpx.Response(statuses[len(calls) - 1], headers=headers)
        return httpx.Response(200, content=final_body)

    return httpx.MockTransport(handler), calls


def test_it_backs_off_on_429_and_503_honouring_retry_after(limiter, clock, sample_data):
    from dailypapers.ingest.http import ArxivHttp

    body = (sample_data / "arxiv-api/2016/id_list=1111.2011v2.xml").read_bytes()
    transport, calls = retrying_transport([429, 503], body, {"Retry-After": "17"})
    http = ArxivHttp(transport=transport, limiter=limiter, cache_dir=None)

    assert http.get(API, {"id_list": "1111.2011"}) == body
    assert len(calls) == 3
    assert 17 in clock.sleeps and clock.sleeps.count(17) == 2


def test_it_gives_up_clearly_when_arxiv_stays_busy(limiter):
    from dailypapers.ingest.http import ArxivHttp

    transport, calls = retrying_transport([503] * 10, b"", {})
    http = ArxivHttp(transport=transport, limiter=limiter, cache_dir=None, max_retries=2)

    with pytest.raises(ArxivUnavailable, match="after 3 tries .*HTTP 503"):
        http.get(API, {"id_list": "1111.2011"})
    assert len(calls) == 3


def test_it_keeps_asking_for_as_long_as_arxiv_says_retry_after(limiter, clock, sample_data):
    from dailypapers.ingest.http import ArxivHttp

    body = (sample_data / "arxiv-api/2016/id_list=1111.2011v2.xml").read_bytes()
    # 24 minutes of "come back in 2 minutes": more tries than max_retries, within the budget.
    transport, calls = retrying_transport([503] * 12, body, {"Retry-After": "120"})
    http = ArxivHttp(transport=transport, limiter=limiter, cache_dir=None, retry_for=1800)

    assert http.get(API, {"id_list": "1111.2011"}) == body
    assert len(calls) == 13 and clock.sleeps.count(120) == 12


def test_it_gives_up_when_retry_after_outlasts_the_budget(limiter, clock):
    from dailypapers.ingest.http import ArxivHttp

    transport, calls = retrying_transport([503] * 100, b"", {"Retry-After": "600"})
    http = ArxivHttp(transport=transport, limiter=limiter, cache_dir=None, retry_for=1800)

    with pytest.raises(ArxivUnavailable, match="after 4 tries in 1800 s .*HTTP 503"):
        http.get(API, {"id_list": "1111.2011"})
    assert clock.sleeps.count(600) == 3


def test_it_caches_answers_for_the_day(limiter, tmp_path, recorded):
    from dailypapers.ingest.http import ArxivHttp

    http = ArxivHttp(transport=recorded.transport, limiter=limiter, cache_dir=tmp_path / "c")

    first = arxiv_api.fetch_by_ids(["1605.08386"], http=http)
    again = arxiv_api.fetch_by_ids(["1605.08386"], http=http)

    assert first == again and len(recorded.requests) == 1


@pytest.mark.django_db
def test_it_upserts_fetched_papers_and_a_rerun_changes_nothing(recorded, make_http):
    http = make_http(recorded)
    records = list(arxiv_api.query(search_query="testing", page_size=100, limit=100, http=http))

    first = upsert_records(records)
    second = upsert_records(records)

    assert first.new == Paper.objects.count() == 100
    assert (second.new, second.updated, second.unchanged) == (0, 0, 100)


def test_it_does_not_cache_an_empty_answer(limiter, tmp_path, recorded):
    from dailypapers.ingest.http import ArxivHttp

    http = ArxivHttp(transport=recorded.transport, limiter=limiter, cache_dir=tmp_path / "c")

    list(arxiv_api.query(id_list=["0000.0000"], http=http))
    list(arxiv_api.query(id_list=["0000.0000"], http=http))

    assert len(recorded.requests) == 2


def test_the_cache_lasts_from_one_announcement_to_the_next():
    import datetime as dt

    from dailypapers.ingest.http import announcement_cycle

    def at(text):  # US Eastern wall clock, November: UTC-5
        return announcement_cycle(dt.datetime.fromisoformat(text + "-05:00"))

    assert at("2026-11-23T19:59") == dt.date(2026, 11, 22)
    assert at("2026-11-23T20:00") == dt.date(2026, 11, 23)
    assert at("2026-11-24T10:00") == dt.date(2026, 11, 23)
