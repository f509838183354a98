"""The "For you" page as a member reads it in chromium: each pick shows who wrote it, with its
reason and its buttons on the row's line of links."""

import pytest

from dailypapers.digests.services import follow_add
from dailypapers.papers.models import Organization
from dailypapers.search import index_papers
from tests.e2e.test_browser import pytestmark  # noqa: F401 (chromium or skip)
from tests.e2e.test_people import sign_in


@pytest.fixture(autouse=True)
def search_dir(fresh_search_dir):
    return fresh_search_dir


def test_a_pick_shows_its_authors_and_keeps_its_buttons_on_the_links_line(
    live_server, browser, make_paper, django_user_model
):
    org = Organization.objects.create(name="acme", fullname="Acme Research")
    paper = make_paper(
        title="Diffusion language models that decode faster",
        abstract="Parallel decoding for diffusion language models cuts latency by half.",
        authors=[{"name": "Grace Hopper"}, {"name": "Edsger Dijkstra"}],
        organization=org,
    )
    index_papers([paper.pk])
    mia = django_user_model.objects.create_user("mia", "mia@example.org", "a fine pass phrase 7")
    follow_add(user=mia, kind="topic", value="diffusion language models")
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server.url, "mia", "a fine pass phrase 7")

    page.goto(f"{live_server.url}/for-you")
    row = page.locator("li.paper", has_text=paper.title)
    assert "Matches your topic “diffusion language models”" in row.locator(".reason").inner_text()
    authors = " ".join(row.locator(".authors").all_inner_texts())
    assert "Grace Hopper" in authors and "Acme Research" in authors
    links = row.locator(".links")
    assert links.get_by_role("link", name="PDF").count() == 1
    # The buttons sit on the links' line, not in a paragraph of their own.
    assert links.get_by_role("button", name="Save").count() == 1
    assert links.get_by_role("button", name="Not interested").count() == 1
    assert row.locator("p:empty").count() == 0
