import datetime as dt

import pytest

from dailypapers.ingest.http import ArxivError
from dailypapers.ingest.models import OaiHarvest
from dailypapers.ingest.records import PaperRecord, Rejected
from dailypapers.ingest.sources import oai
from dailypapers.papers.models import Paper

from .conftest import Recorded

OAI_URL = "https://oaipmh.arxiv.org/oai"


def read(sample_data, name):
    return (sample_data / "oai-pmh" / name).read_bytes()


def test_it_reads_arxivraw_records_with_all_versions(sample_data):
    page = oai.parse_response(read(sample_data, "arXivRaw/ListRecordsResponse.xml"))

    assert page.token == "726959|1001" and page.complete_list_size == 58011
    first = page.records[0]
    assert first.arxiv_id == "0704.0471"
    assert first.authors == [
        {"name": "D.V. Shetty"}, {"name": "S.J. Yennello"}, {"name": "G.A. Souliotis"}
    ]  # fmt: skip
    assert first.categories == ["nucl-ex", "nucl-th"] and first.primary_category == "nucl-ex"
    assert first.published_at == dt.datetime(2007, 4, 3, 22, 4, 11, tzinfo=dt.UTC)
    assert first.doi == "10.1103/PhysRevC.76.024606"
    several_versions = page.records[1]
    assert several_versions.version == 4
    assert [v["version"] for v in several_versions.versions] == [1, 2, 3, 4]
    assert several_versions.updated_at > several_versions.published_at


def test_it_reads_the_pretty_printed_387_record_page(sample_data):
    page = oai.parse_response(read(sample_data, "arXivRaw/ListRecords-387.xml"))

    assert len(page.records) == 387 and page.token == "1403493|1001"
    assert all(isinstance(r, PaperRecord) for r in page.records)
    assert all("  " not in r.title and "\n" not in r.abstract for r in page.records)


def test_it_reads_the_arxiv_format(sample_data):
    page = oai.parse_response(read(sample_data, "arXiv/arxiv-single.xml"))

    [paper] = page.records
    assert paper.arxiv_id == "1401.2122" and paper.version == 1
    assert paper.authors == [{"name": "A. Sergyeyev"}]
    assert paper.journal_ref.startswith("Lett. Math. Phys. 108")
    assert page.token == ""


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ErrorResponseBadArgument.xml", "badArgument"),
        ("ErrorResponseBadResumptionToken.xml", "badResumptionToken"),
        ("ErrorResponseBadVerb.xml", "badVerb"),
        ("ErrorResponseIdDoesNotExist.xml", "idDoesNotExist"),
        ("ErrorResponseNoRecordsMatch.xml", "noRecordsMatch"),
    ],
)
def test_it_reports_oai_errors_clearly(sample_data, name, code):
    with pytest.raises(oai.OaiError) as raised:
        oai.parse_response(read(sample_data, f"arXivRaw/{name}"))

    assert raised.value.code == code
    assert str(raised.value).startswith(f"OAI-PMH error {code}: ")
    assert len(str(raised.value)) > len(f"OAI-PMH error {code}: ") + 5


def test_it_rejects_a_broken_record_and_keeps_the_others(sample_data):
    body = read(sample_data, "arXivRaw/ListRecordsResponse.xml").replace(
        b"<id>0704.0471</id>", b"<id>07x4.0471</id>", 1
    )

    page = oai.parse_response(body)

    assert isinstance(page.records[0], Rejected) and "07x4.0471" in page.records[0].reason
    assert all(isinstance(r, PaperRecord) for r in page.records[1:])


def test_it_says_when_the_answer_is_not_xml():
    with pytest.raises(ArxivError, match="not valid XML"):
        oai.parse_response(b"<OAI-PMH><ListRecords>")


def harvest_answers(sample_data, *, last=None):
    """First page (token 726959|1001), then a second page from the 387-record file with
    its token removed (the last page), or `last` instead."""
    recorded = Recorded()
    first = f"{OAI_URL}?verb=ListRecords&metadataPrefix=arXivRaw&set=physics&from=2014-10-01"
    recorded.add(first, read(sample_data, "arXivRaw/ListRecordsResponse.xml"))
    second = read(sample_data, "arXivRaw/ListRecords-387.xml")
    second = second.replace(b"1403493|1001</resumptionToken>", b"</resumptionToken>")
    token = f"{OAI_URL}?verb=ListRecords&resumptionToken=726959%7C1001"
    recorded.add(token, last if last is not None else second)
    return recorded


@pytest.mark.django_db
def test_it_harvests_all_pages_and_a_rerun_changes_nothing(sample_data, make_http):
    recorded = harvest_answers(sample_data)
    kwargs = {"set_spec": "physics", "from_date": dt.date(2014, 10, 1)}

    summary, state = oai.harvest(http=make_http(recorded), **kwargs)
    again, _ = oai.harvest(http=make_http(recorded), **kwargs)

    assert summary.new == Paper.objects.count() == 6 + 387 - summary.older - summary.unchanged
    assert state.finished_at is not None and state.pages == 2 and state.resumption_token == ""
    assert again.new == again.updated == 0
    assert Paper.objects.filter(arxiv_id="0704.0471").exists()


@pytest.mark.django_db
def test_it_resumes_an_interrupted_harvest_from_the_saved_token(sample_data, make_http):
    kwargs = {"set_spec": "physics", "from_date": dt.date(2014, 10, 1)}
    failing = harvest_answers(sample_data)  # ... but the second page stays unavailable
    token_key = next(k for k in failing.answers if ("resumptionToken", "726959|1001") in k)
    failing.answers[token_key] = [(503, b"", {"Retry-After": "1"})]

    with pytest.raises(ArxivError):
        oai.harvest(http=make_http(failing, max_retries=1), **kwargs)
    state = OaiHarvest.objects.get()
    assert state.resumption_token == "726959|1001" and state.finished_at is None
    assert Paper.objects.count() == 6

    resumed = harvest_answers(sample_data)
    summary, state = oai.harvest(http=make_http(resumed), **kwargs)

    asked = [dict(r.url.params) for r in resumed.requests]
    assert asked == [{"verb": "ListRecords", "resumptionToken": "726959|1001"}]
    assert state.finished_at is not None and state.pages == 2
    assert Paper.objects.count() == 6 + summary.new


@pytest.mark.django_db
def test_it_restarts_cleanly_after_a_bad_resumption_token(sample_data, make_http):
    kwargs = {"set_spec": "physics", "from_date": dt.date(2014, 10, 1)}
    recorded = harvest_answers(
        sample_data, last=read(sample_data, "arXivRaw/ErrorResponseBadResumptionToken.xml")
    )

    with pytest.raises(oai.OaiError, match="run the same harvest again"):
        oai.harvest(http=make_http(recorded), **kwargs)

    assert OaiHarvest.objects.get().resumption_token == ""


@pytest.mark.django_db
def test_it_treats_no_records_match_as_an_empty_harvest(sample_data, make_http):
    recorded = Recorded()
    url = f"{OAI_URL}?verb=ListRecords&metadataPrefix=arXivRaw&set=cs&from=2030-01-01"
    recorded.add(url, read(sample_data, "arXivRaw/ErrorResponseNoRecordsMatch.xml"))

    summary, state = oai.harvest(http=make_http(recorded), set_spec="cs",
                                 from_date=dt.date(2030, 1, 1))  # fmt: skip

    assert summary.seen == 0 and state.finished_at is not None
