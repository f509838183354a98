import datetime as dt

import bibtexparser

from dailypapers.people.bibtex import papers_bibtex

WHEN = dt.datetime(2025, 12, 18, 18, 0, tzinfo=dt.UTC)


def parse(text):
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [block.error for block in library.failed_blocks]
    return library.entries


def test_a_paper_bib_has_authors_in_order_and_arxiv_fields(client, make_paper):
    make_paper(
        arxiv_id="2512.16776",
        title="The Attention & the $O(n^2)$ {Cost} of 100% Recall #1",
        authors=[{"name": "Émilie du Châtelet"}, {"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
        categories=["cs.CL", "cs.LG"],
        published_at=WHEN,
    )
    response = client.get("/papers/2512.16776.bib")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    [entry] = parse(response.content.decode())
    assert entry.entry_type == "misc" and entry.key == "chatelet2025attention"
    fields = {field.key: field.value for field in entry.fields}
    assert fields["author"] == "Émilie du Châtelet and Ada Lovelace and Alan Turing"
    assert fields["title"] == r"The Attention \& the $O(n^2)$ {Cost} of 100\% Recall \#1"
    assert (fields["eprint"], fields["archivePrefix"], fields["primaryClass"]) == (
        "2512.16776",
        "arXiv",
        "cs.CL",
    )
    assert fields["year"] == "2025" and fields["url"] == "https://arxiv.org/abs/2512.16776"


def test_old_style_ids_and_unbalanced_braces_stay_parseable(client, make_paper):
    make_paper(
        arxiv_id="hep-th/9901001", title="Broken {brace and a lone $ sign", published_at=WHEN
    )
    response = client.get("/papers/hep-th/9901001.bib")
    [entry] = parse(response.content.decode())
    fields = {field.key: field.value for field in entry.fields}
    assert fields["eprint"] == "hep-th/9901001"
    assert fields["title"] == r"Broken brace and a lone \$ sign"


def test_it_answers_404_for_unknown_and_hidden_papers(client, make_paper):
    make_paper(arxiv_id="2611.00001", hidden=True)
    assert client.get("/papers/2611.00001.bib").status_code == 404
    assert client.get("/papers/2611.99999.bib").status_code == 404
    assert client.get("/papers/not-an-id.bib").status_code == 404


def test_several_papers_get_unique_keys(make_paper):
    papers = [make_paper(title="Attention again", published_at=WHEN) for _ in range(3)]
    keys = [entry.key for entry in parse(papers_bibtex(papers))]
    assert keys == ["lovelace2025attention", "lovelace2025attentiona", "lovelace2025attentionb"]
