import bibtexparser
import pytest
from django.core.exceptions import PermissionDenied

from dailypapers.people.models import Collection
from dailypapers.people.services import collection_add, collection_create


@pytest.fixture
def papers(make_paper):
    return [make_paper(title="Sparse attention"), make_paper(title="Dense attention")]


def test_a_member_collects_papers_with_notes(client, alice, papers):
    client.force_login(alice)
    response = client.post(
        "/collections/add", {"paper": papers[0].arxiv_id, "title": "Reading group", "note": ""}
    )
    assert response["Location"] == f"/papers/{papers[0].arxiv_id}"
    collection = Collection.objects.get()
    assert (collection.owner, collection.title, collection.is_public) == (
        alice,
        "Reading group",
        False,
    )
    client.post(
        "/collections/add",
        {"paper": papers[1].arxiv_id, "collection": collection.pk, "note": "Read §3 <b>first</b>"},
    )
    html = client.get(f"/collections/{collection.pk}").content.decode()
    assert "Sparse attention" in html and "Dense attention" in html
    assert "Read §3 &lt;b&gt;first&lt;/b&gt;" in html and "Only you can see it" in html

    client.post(f"/collections/{collection.pk}/remove", {"paper": papers[0].arxiv_id})
    assert list(collection.items.values_list("paper__title", flat=True)) == ["Dense attention"]


def test_private_collections_are_private_and_public_ones_shared(client, alice, bob, papers):
    collection = collection_create(user=alice, title="Mine")
    collection_add(user=alice, collection=collection, paper=papers[0], note="good")
    url = f"/collections/{collection.pk}"
    for user in [None, bob]:
        client.logout()
        if user:
            client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(f"{url}.bib").status_code == 404
        assert client.get("/u/alice").content.decode().count(url) == 0

    client.force_login(alice)
    client.post(f"{url}/edit", {"title": "Shared", "description": "", "is_public": "on"})
    client.logout()
    html = client.get(url).content.decode()
    assert "Shared" in html and "Sparse attention" in html and "good" in html
    assert "Edit note" not in html and "Delete this collection" not in html
    assert url in client.get("/u/alice").content.decode()


def test_only_the_owner_changes_a_collection(client, alice, bob, papers):
    collection = collection_create(user=alice, title="Mine", is_public=True)
    with pytest.raises(PermissionDenied):
        collection_add(user=bob, collection=collection, paper=papers[0])
    client.force_login(bob)
    url = f"/collections/{collection.pk}"
    for path, data in [
        (f"{url}/edit", {"title": "Taken"}),
        (f"{url}/delete", {}),
        (f"{url}/remove", {"paper": papers[0].arxiv_id}),
        ("/collections/add", {"paper": papers[0].arxiv_id, "collection": collection.pk}),
    ]:
        assert client.post(path, data).status_code == 404, path
    collection.refresh_from_db()
    assert collection.title == "Mine" and not collection.items.exists()


def test_bad_collection_input_gets_a_message(client, alice, papers):
    client.force_login(alice)
    response = client.post("/collections", {"title": "   "})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(
        "/collections/add", {"paper": papers[0].arxiv_id, "title": ""}, follow=True
    )
    assert "Give the collection a title." in response.content.decode()
    assert client.post("/collections/add", {"paper": "nope"}).status_code == 404
    assert (
        client.post(
            "/collections/add", {"paper": papers[0].arxiv_id, "collection": "x"}
        ).status_code
        == 404
    )
    assert not Collection.objects.exists()


def test_a_collection_exports_bibtex(client, alice, papers):
    collection = collection_create(user=alice, title="Attention reading list", is_public=True)
    for paper in papers:
        collection_add(user=alice, collection=collection, paper=paper)
    response = client.get(f"/collections/{collection.pk}.bib")
    assert 'filename="attention-reading-list.bib"' in response["Content-Disposition"]
    library = bibtexparser.parse_string(response.content.decode())
    assert [entry["eprint"] for entry in library.entries] == [p.arxiv_id for p in papers]


def test_the_paper_page_lists_a_new_collection_at_once(client, alice, papers):
    client.force_login(alice)
    url = f"/papers/{papers[0].arxiv_id}"
    assert "Brand new list" not in client.get(url).content.decode()  # cached for alice now
    collection_create(user=alice, title="Brand new list")
    assert "Brand new list" in client.get(url).content.decode()
