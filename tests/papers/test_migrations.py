"""Data migrations, run on rows written the way the code before them wrote them."""

import importlib

from django.apps import apps

from dailypapers.ingest import bulk
from dailypapers.papers.models import Author, PaperAuthor

drop_wordless = importlib.import_module(
    "dailypapers.papers.migrations.0005_drop_wordless_authors"
).drop_wordless_authors


def test_it_drops_the_colon_author_of_a_byline_stored_before_collaborations_were_split(
    make_paper,
):
    # arXiv lists 2512.20848 as "NVIDIA", ":", "Aaron Blakeman", ...; ingest used to store it so.
    byline = [
        {"name": "NVIDIA"},
        {"name": ":"},
        {"name": "Aaron Blakeman"},
        {"name": "Abhinav Khattar"},
    ]
    paper = make_paper(arxiv_id="2512.20848", authors=byline)
    other = make_paper(authors=[{"name": "Aaron Blakeman"}, {"name": "-"}])
    bulk.link_authors({paper.pk: [a["name"] for a in byline], other.pk: ["Aaron Blakeman", "-"]})

    drop_wordless(apps, None)

    paper.refresh_from_db()
    assert [a["name"] for a in paper.authors] == ["NVIDIA", "Aaron Blakeman", "Abhinav Khattar"]
    links = PaperAuthor.objects.filter(paper=paper).order_by("position")
    assert [(link.position, link.author.name) for link in links] == [
        (0, "NVIDIA"), (1, "Aaron Blakeman"), (2, "Abhinav Khattar"),
    ]  # fmt: skip
    assert not Author.objects.filter(name__in=[":", "-"]).exists()
    assert [a["name"] for a in other.__class__.objects.get(pk=other.pk).authors] == [
        "Aaron Blakeman"
    ]
    drop_wordless(apps, None)  # a second run finds nothing to do
    assert PaperAuthor.objects.filter(paper=paper).count() == 3
