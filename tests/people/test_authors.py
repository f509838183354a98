import re

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from dailypapers.papers.models import Author, Organization
from dailypapers.people.models import AuthorMerge
from dailypapers.people.services import author_unmerge, authors_merge


def author(name):
    return Author.objects.get(name=name)


def page_of(client, name):
    response = client.get(f"/authors/{author(name).pk}", follow=True)
    assert response.status_code == 200
    return response


def test_it_shows_an_author_with_papers_upvotes_and_co_authors(client, linked_paper):
    linked_paper(
        title="First",
        authors=[{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
        imported_upvotes=5,
    )
    linked_paper(
        title="Second",
        authors=[{"name": "Grace Hopper"}, {"name": "Ada Lovelace"}],
        imported_upvotes=7,
    )
    linked_paper(title="Not hers", authors=[{"name": "Alan Turing"}], imported_upvotes=100)
    linked_paper(title="Hidden", authors=[{"name": "Ada Lovelace"}], hidden=True)
    response = page_of(client, "Ada Lovelace")
    assert response.redirect_chain == [(f"/authors/{author('Ada Lovelace').pk}-ada-lovelace", 302)]
    html = response.content.decode()
    assert "First" in html and "Second" in html and "Not hers" not in html and "Hidden" not in html
    assert "2 papers · ▲ 12 upvotes" in html
    co_authors = html.split("Co-authors")[1].split("</section>")[0]
    assert "Alan Turing" in co_authors and "Grace Hopper" in co_authors
    assert "Ada Lovelace" not in co_authors


def test_co_authors_put_close_collaborators_before_a_big_collaboration(client, linked_paper):
    ada = [{"name": "Ada Lovelace"}]
    crowd = [{"name": f"Member {i:02d}"} for i in range(40)]
    linked_paper(title="Small", authors=[*ada, {"name": "Zed Zulu"}, {"name": "Bob Brown"}])
    linked_paper(title="Also small", authors=[{"name": "B. Brown"}, *ada, {"name": "Cy Hu"}])
    linked_paper(title="Big report", authors=[*crowd, *ada])
    linked_paper(title="Big report 2", authors=[*ada, *crowd, {"name": "Dee Ode"}])
    linked_paper(title="Hidden", authors=[*ada, {"name": "Secret Sam"}], hidden=True)
    AuthorMerge.objects.create(variant=author("B. Brown"), canonical=author("Bob Brown"))
    html = page_of(client, "Ada Lovelace").content.decode()
    co_authors = html.split("Co-authors")[1].split("</section>")[0]
    chips = re.findall(
        r'<li class="chip"><a href="[^"]+">([^<]+)</a> <span[^>]*>(\d+)<', co_authors
    )
    # Newman's weight: Bob Brown 1/2 + 1/2 (two papers of three), Zed Zulu and Cy Hu 1/2;
    # each member of the crowd 1/40 + 1/41 for their two papers together, Dee Ode 1/41.
    assert chips[:3] == [("Bob Brown", "2"), ("Cy Hu", "1"), ("Zed Zulu", "1")]
    assert chips[3:] == [(f"Member {i:02d}", "2") for i in range(21)]
    assert len(chips) == 24 and "and 20 more</li>" in co_authors  # 19 of the crowd, Dee Ode
    assert "B. Brown" not in co_authors and "Secret Sam" not in co_authors


def test_an_author_page_shows_the_author_in_each_cut_byline(client, linked_paper):
    authors = [{"name": f"Author {i}"} for i in range(9)] + [{"name": "Ada Lovelace"}]
    linked_paper(title="Tenth of ten", authors=authors)
    ada = author("Ada Lovelace")
    html = page_of(client, "Ada Lovelace").content.decode()
    name = '<strong class="sought">Ada Lovelace</strong>'
    link = f'<a href="/authors/{ada.pk}-ada-lovelace">{name}</a>'
    assert f"Author 3</a>, …, {link} et al. (10 authors)" in html
    # The first author's page lists the same paper with its byline cut as usual.
    other = page_of(client, "Author 0").content.decode()
    assert "Author 3</a> et al. (10 authors)" in other
    assert '<strong class="sought">Author 0</strong>' in other


def test_it_links_every_author_name(client, linked_paper, feature):
    paper = linked_paper(authors=[{"name": "Ada Lovelace"}, {"name": "Émilie du Châtelet"}])
    feature(paper)
    ada, emilie = author("Ada Lovelace"), author("Émilie du Châtelet")
    for url in ["/", f"/papers/{paper.arxiv_id}"]:
        html = client.get(url).content.decode()
        assert f'<a href="/authors/{ada.pk}-ada-lovelace">Ada Lovelace</a>' in html, url
        assert f'<a href="/authors/{emilie.pk}-emilie-du-chatelet">Émilie du Châtelet</a>' in html


def test_it_answers_404_for_unknown_authors(client, db):
    for slug in ["999999-nobody", "nobody", "12345678901234567890"]:
        assert client.get(f"/authors/{slug}").status_code == 404


def test_moderators_merge_name_variants_and_can_undo_it(client, linked_paper, moderator, alice):
    linked_paper(title="By the full name", authors=[{"name": "Ada Lovelace"}], imported_upvotes=3)
    linked_paper(title="By initials", authors=[{"name": "A. Lovelace"}], imported_upvotes=4)
    full, short = author("Ada Lovelace"), author("A. Lovelace")
    with pytest.raises(PermissionDenied):
        authors_merge(moderator=alice, canonical=full, variants=[short])
    assert not AuthorMerge.objects.exists()  # nothing by guesswork, nothing by members

    assert authors_merge(moderator=moderator, canonical=full, variants=[full, short]) == 1
    html = page_of(client, "A. Lovelace").content.decode()  # the variant leads to the name kept
    assert "By the full name" in html and "By initials" in html and "▲ 7" in html
    assert "also written “A. Lovelace”" in html

    author_unmerge(moderator=moderator, variant=short)
    html = page_of(client, "Ada Lovelace").content.decode()
    assert "By initials" not in html


def test_merging_into_a_variant_merges_into_its_canonical(linked_paper, moderator):
    linked_paper(
        authors=[{"name": "Ada Lovelace"}, {"name": "A. Lovelace"}, {"name": "A Lovelace"}]
    )
    full, dotted, bare = author("Ada Lovelace"), author("A. Lovelace"), author("A Lovelace")
    authors_merge(moderator=moderator, canonical=full, variants=[dotted])
    authors_merge(moderator=moderator, canonical=dotted, variants=[bare])
    assert {m.variant.name: m.canonical.name for m in AuthorMerge.objects.all()} == {
        "A. Lovelace": "Ada Lovelace",
        "A Lovelace": "Ada Lovelace",
    }


def test_the_admin_action_asks_which_name_to_keep(linked_paper, moderator, alice):
    linked_paper(authors=[{"name": "Ada Lovelace"}, {"name": "A. Lovelace"}])
    model_admin = site._registry[Author]
    selected = Author.objects.all()

    def request_as(user, data):
        request = RequestFactory().post("/admin/papers/author/", data)
        request.user = user
        request.session = {}
        request._messages = FallbackStorage(request)
        return request

    page = model_admin.merge(request_as(moderator, {}), selected)
    page.render()
    assert "Which name do we keep?" in page.rendered_content
    assert not AuthorMerge.objects.exists()

    keep = author("Ada Lovelace").pk
    model_admin.merge(request_as(alice, {"canonical": keep}), selected)
    assert not AuthorMerge.objects.exists()  # a member is refused
    model_admin.merge(request_as(moderator, {"canonical": keep}), selected)
    assert AuthorMerge.objects.get().variant.name == "A. Lovelace"


def test_it_shows_an_organisation_with_its_papers_and_links_it(client, linked_paper, feature):
    org = Organization.objects.create(name="inclusionAI", fullname="inclusion AI")
    paper = linked_paper(title="Ling", organization=org, imported_upvotes=9)
    linked_paper(title="Elsewhere")
    feature(paper)
    html = client.get("/").content.decode()
    assert '<a class="org" href="/orgs/inclusionAI">inclusion AI</a>' in html
    html = client.get("/orgs/inclusionAI").content.decode()
    assert "Ling" in html and "Elsewhere" not in html and "1 paper · ▲ 9 upvotes" in html
    assert client.get("/orgs/nobody").status_code == 404
