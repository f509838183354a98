import datetime as dt
import io

import bibtexparser
import pytest
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from django.core.management import call_command

from dailypapers.papers.models import Paper
from dailypapers.people.bibtex import paper_bibtex, papers_bibtex

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
    assert fields["author"] == r"{\'E}milie du Ch{\^a}telet and Ada Lovelace and Alan Turing"
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


@pytest.fixture
def sample_papers(db):
    """The bundled sample of real papers, ingested as the demo loads it."""
    call_command("load_sample", stdout=io.StringIO())

    def get(arxiv_id):
        [entry] = parse(paper_bibtex(Paper.objects.get(arxiv_id=arxiv_id)))
        return entry, {field.key: field.value for field in entry.fields}

    return get


def test_an_organisation_in_the_byline_is_one_name_and_not_the_key(sample_papers):
    entry, fields = sample_papers("2512.16144")  # INTELLECT-3, "Prime Intellect Team" first
    assert fields["author"].startswith("{Prime Intellect Team} and Mika Senghaas and ")
    assert entry.key == "primeintellect2025intellect"
    names = bibtexparser.parse_string(
        paper_bibtex(Paper.objects.get(arxiv_id="2512.16144")),
        append_middleware=[SeparateCoAuthors(), SplitNameParts()],
    ).entries[0]["author"]
    assert names[0].last == ["{Prime Intellect Team}"] and names[0].first == []
    assert (names[1].first, names[1].last) == (["Mika"], ["Senghaas"])


def test_acronyms_and_model_names_keep_their_case_and_plain_words_do_not(sample_papers):
    ids = ["2512.22234", "2512.18099", "2512.20757", "2512.16144"]
    titles = {arxiv_id: sample_papers(arxiv_id)[1]["title"] for arxiv_id in ids}
    assert titles == {
        "2512.22234": "{DiRL}: An Efficient Post-Training Framework for Diffusion Language Models",
        "2512.18099": "{SAM} Audio: Segment Anything in Audio",
        "2512.20757": "{TokSuite}: Measuring the Impact of Tokenizer Choice on Language "
        "Model Behavior",
        "2512.16144": "{INTELLECT-3}: Technical Report",
    }


def test_greek_letters_and_accents_are_latex_for_classic_bibtex(sample_papers):
    entry, fields = sample_papers("2512.19680")  # VA-π
    assert fields["title"] == (
        r"{VA-{\ensuremath{\pi}}}: Variational Policy Alignment for Pixel-Aware "
        "Autoregressive Generation"
    )
    entry, fields = sample_papers("2512.20757")  # TokSuite, by Gül Sena Altıntaş
    assert fields["author"].startswith(r"G{\"u}l Sena Alt{\i}nta{\c{s}} and ")
    assert entry.key == "altintas2025toksuite"
    assert fields["author"].isascii() and fields["title"].isascii()


def test_math_and_existing_braces_are_left_as_written(make_paper):
    paper = make_paper(
        title="Scaling $O(N\\log N)$ {BERT} to GPT-4o: the 3D case", published_at=WHEN
    )
    [entry] = parse(papers_bibtex([paper]))
    title = {field.key: field.value for field in entry.fields}["title"]
    assert title == r"Scaling $O(N\log N)$ {BERT} to {GPT-4o}: the {3D} case"


def test_characters_latex_has_no_name_for_stay_utf8(make_paper):
    paper = make_paper(title="大模型 Benchmarks", authors=[{"name": "王小明"}], published_at=WHEN)
    [entry] = parse(papers_bibtex([paper]))
    fields = {field.key: field.value for field in entry.fields}
    assert (fields["title"], fields["author"]) == ("大模型 Benchmarks", "王小明")
