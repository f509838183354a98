"""Real records at the extremes of arXiv's metadata (tests/data/odd-listings.jsonl.gz, picked
by make_slices.py) on every surface a reader meets: the listing rows, the paper page,
search, feeds and the digest."""

import gzip
import json
from pathlib import Path

import feedparser
import pytest

from dailypapers.digests.emails import DigestComposer, Section
from dailypapers.ingest.sources.listings import parse_listing
from dailypapers.ingest.upsert import upsert_records
from dailypapers.papers.models import Paper
from dailypapers.papers.tex import tex_plain

from .conftest import DAY

pytestmark = pytest.mark.django_db

ODD = Path(__file__).resolve().parents[1] / "data" / "odd-listings.jsonl.gz"
GEMINI = "2507.06261"  # 3,303 authors
DHO = "2505.07675"  # "... via $\mathbf{\texttt{D}}$ual-$\mathbf{\texttt{H}}$ead ..."
POLYCYCLIC = "2604.03991"  # "... over $\frac{\mathbb{F}_{p^m}[u]}{\langle u^t \rangle}$ ..."
DHO_PLAIN = "Models via Dual-Head Optimization"


def odd_record(arxiv_id):
    with gzip.open(ODD, "rt") as lines:
        for line in lines:
            if json.loads(line)["id"] == arxiv_id:
                return json.loads(line)
    raise LookupError(arxiv_id)


@pytest.fixture
def odd(feature):
    """The odd records, stored as `ingest listings` stores them and featured on DAY."""
    with gzip.open(ODD, "rt") as lines:
        upsert_records([parse_listing(json.loads(line)) for line in lines])
    papers = {paper.arxiv_id: paper for paper in Paper.objects.all()}
    for paper in papers.values():
        feature(paper)
    return papers


def test_tex_reads_as_text():
    written = r"$\mathcal{O}(n^2)$ memory, 95\% of \textit{all}"
    assert tex_plain(written) == "O(n²) memory, 95% of all"
    assert tex_plain(odd_record(DHO)["title"]).endswith(DHO_PLAIN)
    assert tex_plain(odd_record(POLYCYCLIC)["title"]).startswith("On Polycyclic Codes over (𝔽")
    assert tex_plain("costs $5 and $10 a month") == "costs $5 and $10 a month"
    assert tex_plain("No TeX at all: 50% & <b>") == "No TeX at all: 50% & <b>"


def test_listing_rows_show_tex_titles_as_text(client, odd):
    html = client.get(f"/papers/date/{DAY}").content.decode()
    assert DHO_PLAIN in html and r"\mathbf" not in html and r"\frac" not in html
    assert "et al. (3,303 authors)" in html


def test_the_paper_page_keeps_tex_for_katex_but_its_title_tag_is_text(client, odd):
    html = client.get(f"/papers/{DHO}").content.decode()
    assert r"$\mathbf{\texttt{D}}$ual" in html  # the <h1>, typeset in the browser
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert DHO_PLAIN in title and "$" not in title


def test_feeds_carry_text_titles(client, odd):
    for kind in ("atom", "rss"):
        feed = feedparser.parse(client.get(f"/feeds/date/{DAY}.{kind}").content)
        assert not feed.bozo
        titles = {entry.link.rsplit("/", 1)[1]: entry.title for entry in feed.entries}
        assert titles[DHO].endswith(DHO_PLAIN), kind


def test_the_digest_shows_tex_as_text(odd):
    composer = DigestComposer(period_label="Wed 1 Jul 2026", kind="daily")
    digest = composer.compose(
        to="ada@example.org",
        sections=[Section(heading="", papers=[odd[DHO], odd[POLYCYCLIC]])],
        message_id="<ada@example.org>",
        unsubscribe_url="https://example.org/u",
        manage_url="https://example.org/m",
    )
    assert "via Dual-Head O" in digest.subject and "$" not in digest.subject
    for part in (digest.text, digest.html):
        assert DHO_PLAIN in part and r"\mathbf" not in part and r"\langle" not in part


def test_a_collaboration_paper_page_names_the_first_authors_and_links_the_rest(client, odd):
    names = [author["name"] for author in odd[GEMINI].authors]
    response = client.get(f"/papers/{GEMINI}")
    html = response.content.decode()
    assert len(response.content) < 40_000  # was 190 kB: every one of 3,303 names, linked
    assert names[0] in html and names[19] in html and f">{names[-1]}<" not in html
    assert f'href="/papers/{GEMINI}/authors">3,283 more</a>' in html
    every = client.get(f"/papers/{GEMINI}/authors").content.decode()
    assert every.count('<li><a href="/authors/') == 3303 and names[-1] in every


def test_a_short_byline_is_shown_whole(client, odd):
    html = client.get(f"/papers/{DHO}").content.decode()
    assert "Sung Ju Hwang" in html and "more</a>" not in html


def test_a_cut_byline_keeps_its_verified_authors(client, odd, alice):
    from dailypapers.papers.models import PaperAuthor
    from dailypapers.people.models import AuthorshipClaim

    link = PaperAuthor.objects.get(paper=odd[GEMINI], position=3000)
    AuthorshipClaim.objects.create(
        user=alice, paper=odd[GEMINI], author=link.author, status=AuthorshipClaim.Status.VERIFIED
    )
    html = client.get(f"/papers/{GEMINI}").content.decode()
    assert f'>{link.author.name}</a> <a class="badge verified"' in html
    assert ">3,282 more</a>" in html


def test_a_collaboration_is_cut_in_feeds(client, odd):
    names = [author["name"] for author in odd[GEMINI].authors]
    for kind in ("atom", "rss"):
        response = client.get(f"/feeds/date/{DAY}.{kind}")
        assert len(response.content) < 60_000, kind  # was 320 kB (Atom), 193 kB (RSS)
        entry = next(e for e in feedparser.parse(response.content).entries if GEMINI in e.link)
        assert names[19] in entry.summary and names[20] not in entry.summary
        assert "and 3,283 more" in entry.summary
    atom = feedparser.parse(client.get(f"/feeds/date/{DAY}.atom").content)
    entry = next(e for e in atom.entries if GEMINI in e.link)
    assert [author.name for author in entry.authors] == names[:20]


def test_tex_titles_are_found_by_their_words(client, odd):
    from dailypapers.search import index_papers

    sample = ODD.parent / "arxiv-listings-sample.jsonl.gz"  # 299 other papers around them
    with gzip.open(sample, "rt") as lines:
        upsert_records([parse_listing(json.loads(line)) for line in lines])
    index_papers(list(Paper.objects.values_list("pk", flat=True)))
    typed = tex_plain(odd_record(DHO)["title"])  # the whole title, as a listing shows it
    queries = (("Dual-Head Optimization", DHO), (typed, DHO), ("polycyclic codes F_pm", POLYCYCLIC))
    for query, wanted in queries:
        found = client.get("/api/papers/search", {"q": query, "limit": 3}).json()
        assert [hit["paper"]["id"] for hit in found][:1] == [wanted], query


def test_a_member_claims_a_collaboration_paper_on_its_byline_page(client, odd, alice):
    client.force_login(alice)
    response = client.get(f"/papers/{GEMINI}")
    assert len(response.content) < 40_000  # the claim form held 3,303 <option>s: 148 kB
    assert f'href="/papers/{GEMINI}/authors#claim"' in response.content.decode()
    every = client.get(f"/papers/{GEMINI}/authors").content.decode()
    assert 'id="claim"' in every and every.count("<option value=") == 3303


def test_messages_and_notices_name_a_tex_title_as_text(client, odd, alice, bob, django_user_model):
    """Where no KaTeX runs: a notification's headline, the links page, a flash message."""
    from dailypapers.notifications.models import Notification

    paper = odd[DHO]
    reply = Notification.objects.create(
        user=alice, actor=bob, kind=Notification.Kind.REPLY, paper=paper
    )
    assert reply.headline.endswith(f"{DHO_PLAIN}”") and "$" not in reply.headline
    client.force_login(alice)
    saved = client.post(f"/papers/{DHO}/feedback", {"kind": "saved"}, follow=True)
    assert f"Saved “{tex_plain(paper.title)[:80]}”." in saved.content.decode()
    client.force_login(django_user_model.objects.create_superuser("mod", "m@example.org", "pw"))
    links = client.get(f"/papers/{DHO}/links").content.decode()
    assert f"Links of “{tex_plain(paper.title)}”" in links and r"\mathbf" not in links
