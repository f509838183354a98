"""Moderation in the admin: hiding a paper takes it out of pages and search at once."""

import pytest

from dailypapers.search import index_papers, search_papers


@pytest.fixture(autouse=True)
def search_dir(fresh_search_dir):
    return fresh_search_dir


def test_it_hides_papers_from_pages_and_search(
    client, admin_user, make_paper, django_capture_on_commit_callbacks
):
    paper = make_paper(title="Quantised speculative decoding for small devices")
    index_papers([paper.pk])
    assert [p.pk for p in search_papers("speculative decoding").papers] == [paper.pk]
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/admin/papers/paper/",
            {"action": "hide", "_selected_action": [paper.pk]},
            follow=True,
        )
    assert callbacks, "hiding announces papers_changed once committed"
    assert "Hid 1 paper." in response.content.decode()
    assert client.get(f"/papers/{paper.arxiv_id}").status_code == 404
    results = search_papers("speculative decoding")
    assert (results.papers, results.total) == ([], 0)


def test_its_messages_count_in_words(client, admin_user, make_paper):
    papers = [make_paper(), make_paper()]
    client.force_login(admin_user)
    for selected, said in [
        (papers[:1], "Showed 1 paper again."),
        (papers, "Showed 2 papers again."),
    ]:
        response = client.post(
            "/admin/papers/paper/",
            {"action": "unhide", "_selected_action": [p.pk for p in selected]},
            follow=True,
        )
        assert said in response.content.decode()
