"""The PostgreSQL keyword engine's own behaviour (PostgreSQL only)."""

import pytest
from django.db import connection

from dailypapers.search import pg, related, tasks
from dailypapers.search.keyword import Filters
from dailypapers.search.query import parse

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL keyword engine"
)


def search(text, limit=20, **filters):
    return pg.PostgresKeywordIndex().search(parse(text), Filters(**filters), limit=limit)


def language_papers(paper, number=25):  # "pruning" in one more is under COMMON_SHARE
    for n in range(number):  # titles unlike the queries: the trigram branch stays out
        paper(title=f"Study number {n}", abstract="A language model. Models of language.")


def test_common_words_rank_papers_but_do_not_select_them(keyword_only, paper):
    language_papers(paper)
    pruned = paper(title="Pruning", abstract="We prune a language model.")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, total = search("language model pruning", limit=1)
    assert (total, hits[0].pk) == (1, pruned.pk)  # only "pruning" selects
    hits, total = search("language model pruning")
    assert (total, hits[0].pk) == (26, pruned.pk)  # too few: every word selects again


def test_a_rare_word_outweighs_common_ones(keyword_only, paper):
    """ts_rank, which this engine used before, put the paper with more words first."""
    language_papers(paper)
    rare = paper(title="Compression", abstract="We prune networks.")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, total = search("language model pruning")
    assert (total, hits[0].pk) == (26, rare.pk)


def test_a_title_with_the_words_is_marked_titled(keyword_only, paper):
    titled = paper(title="Speculative decoding with draft models", abstract="Faster.")
    other = paper(title="Faster inference", abstract="Speculative decoding is fast.")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, _ = search("speculative decoding")
    assert [(hit.pk, hit.titled) for hit in hits] == [(titled.pk, True), (other.pk, False)]


def test_a_misspelt_title_is_found_by_its_trigrams(keyword_only, paper):
    wanted = paper(title="Distilling diversity and control in diffusion models", abstract="X.")
    paper(title="Diffusion models for control", abstract="Diffusion models control robots.")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, _ = search("Distiling Diversity and Conrtol in Diffuson Models")
    assert hits[0].pk == wanted.pk


def test_filters_apply_before_the_pool_is_cut(keyword_only, paper, monkeypatch):
    monkeypatch.setattr(pg, "RESCORE_POOL", 2)
    for n in range(5):
        paper(title=f"Pruning study {n}", abstract="We prune.", github_repo="")
    coded = paper(title="Pruning code", abstract="We prune.", github_repo="https://github.com/a/b")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, total = search("pruning", limit=1, has_code=True)
    assert (total, [hit.pk for hit in hits]) == (1, [coded.pk])


def test_odd_lexemes_are_quoted_for_tsquery(keyword_only, paper):
    odd = paper(title="O'Neil's \\ backslash paper", abstract="It's a test.")
    pg.PostgresKeywordIndex().refresh_statistics()
    hits, _ = search("o'neil's \\ backslash")
    assert hits[0].pk == odd.pk


def test_word_counts_are_recounted_when_the_papers_grow(keyword_only, paper):
    engine = pg.PostgresKeywordIndex()
    paper(title="One", abstract="Pruning.")
    assert engine.statistics_are_stale()  # never counted
    tasks._learn_statistics_if_none()
    assert not engine.statistics_are_stale()
    language_papers(paper, number=2)
    assert engine.statistics_are_stale()  # 1 -> 3 documents
    tasks._learn_statistics_if_none()
    with connection.cursor() as cursor:
        cursor.execute("SELECT papers FROM search_pglexeme WHERE lexeme IN ('', 'languag')")
        assert sorted(row[0] for row in cursor.fetchall()) == [2, 3]


def test_serve_queues_a_recount_after_an_upgrade(keyword_only, paper, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    engine = pg.PostgresKeywordIndex()
    paper(title="Pruning", abstract="We prune.")
    engine.refresh_statistics()
    assert not tasks.refresh_stale_statistics()  # counted: nothing to do
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_pglexeme")  # as the upgrade that adds the table
    assert tasks.refresh_stale_statistics()
    assert not engine.statistics_are_stale()


def test_a_title_with_the_acronym_the_query_spells_out_is_titled(keyword_only, paper):
    from dailypapers.search import acronyms

    for i in range(2):
        paper(title=f"Preference data {i}", abstract="Direct preference optimization (DPO).")
    short_title = paper(title="DPO without a reference model", abstract="Offline alignment.")
    pg.PostgresKeywordIndex().refresh_statistics()
    acronyms.refresh()
    parsed = acronyms.expand(parse("direct preference optimization"))
    hits, _ = pg.PostgresKeywordIndex().search(parsed, Filters(), limit=5)
    assert {hit.pk: hit.titled for hit in hits}[short_title.pk]


def _planned_rows(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def test_a_bulk_index_renews_the_planners_statistics(keyword_only, make_paper, monkeypatch):
    """Until autovacuum came by, the planner took freshly loaded papers for none and chose
    plans that rescanned the index per paper: an author's papers took minutes."""
    from dailypapers.search import index_papers

    with connection.cursor() as cursor:  # as autovacuum leaves them after rolled-back loads
        cursor.execute("ANALYZE papers_paper, search_pgdocument")
    monkeypatch.setattr(pg, "ANALYZE_FROM", 20)
    few = [make_paper(title=f"Graph networks, part {n}", authors=[{"name": "Grace Hopper"}])
           for n in range(5)]  # fmt: skip
    more = [make_paper(title=f"Protein folding, part {n}") for n in range(20)]
    index_papers([p.pk for p in few + more])
    assert _planned_rows("search_pgdocument") == 25  # the open transaction's rows count
    assert _planned_rows("papers_paper") == 25
    assert not pg.analyze_after_bulk(19)  # under ANALYZE_FROM: autovacuum's
    monkeypatch.setattr(pg, "ANALYZE_FROM", 2)
    assert not pg.analyze_after_bulk(2)  # under a tenth of the papers: autovacuum's
    hits, total = search('au:"Grace Hopper"')
    assert (total, sorted(h.pk for h in hits)) == (5, sorted(p.pk for p in few))


def test_author_words_are_each_name_as_tantivy_reads_it():
    assert pg._author_words(["Ólafur Sigurðsson", "Wei LIU", "!!!", "Łukasz"]) == (
        " olafur sigurdsson | wei liu | lukasz "
    )


def test_documents_from_before_author_words_are_read_as_before(keyword_only, paper):
    """Until the worker rewrites them (pg.FORMAT), au: reads their papers' authors."""
    wei = paper(title="Graphs", authors=[{"name": "Wei Liu"}])
    other = paper(title="Graphs too", authors=[{"name": "Jiawei Liu"}])
    with connection.cursor() as cursor:  # as migration 0010 leaves them
        cursor.execute("UPDATE search_pgdocument SET author_words = NULL, format = 1")
    assert pg.PostgresKeywordIndex().outdated() == sorted([wei.pk, other.pk])
    hits, total = search('au:"wei liu"')
    assert (total, [hit.pk for hit in hits]) == (1, [wei.pk])


def test_documents_from_before_folding_are_found_as_before(keyword_only, paper, monkeypatch):
    """Until the worker rewrites them (pg.FORMAT 3), documents hold their words with
    accents: a query folded must still find them by the words as typed."""
    with monkeypatch.context() as unfolded:  # as a release before FORMAT 3 wrote them
        unfolded.setattr(pg, "fold_accents", lambda text: text)
        bridge = paper(title="Schrödinger Bridge matching", abstract="A Poincaré section.",
                       authors=[{"name": "Jürgen Schmidhuber"}])  # fmt: skip
    other = paper(title="Graph networks", abstract="Message passing.")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE search_pgdocument SET format = 2 WHERE paper_id = %s", [bridge.pk])
    engine = pg.PostgresKeywordIndex()
    engine.refresh_statistics()
    assert engine.outdated() == [bridge.pk]
    for query in ["Schrödinger bridge", "schrödinger", '"Schrödinger Bridge"',
                  'ti:"Schrödinger bridge"', 'abs:"a Poincaré section"', "Jürgen"]:  # fmt: skip
        hits, total = search(query)
        assert (query, total, [hit.pk for hit in hits]) == (query, 1, [bridge.pk])
        assert engine.count_every_word(parse(query), Filters()) == 1, query
    hits, total = search("graph -Schrödinger")
    assert [hit.pk for hit in hits] == [other.pk]
    hits, total = search("matching -Schrödinger")
    assert total == 0


def test_word_counts_are_recounted_once_every_document_is_folded(keyword_only, paper, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    bridge = paper(title="Schrödinger Bridge matching", abstract="Transport.")
    engine = pg.PostgresKeywordIndex()
    with connection.cursor() as cursor:  # as a release before FORMAT 3 wrote it
        cursor.execute(
            "UPDATE search_pgdocument SET format = 2, document = "
            "setweight(to_tsvector('english', title), 'A'), "
            "title_document = to_tsvector('english', title)"
        )
    engine.refresh_statistics()
    assert _papers_with("schrödinger") == 1
    assert tasks.rewrite_outdated_keyword_documents() == 1
    assert engine.outdated() == []
    assert (_papers_with("schrödinger"), _papers_with("schroding")) == (0, 1)
    hits, _ = search("Schrödinger")
    assert [hit.pk for hit in hits] == [bridge.pk]


def _papers_with(lexeme):
    with connection.cursor() as cursor:
        cursor.execute("SELECT papers FROM search_pglexeme WHERE lexeme = %s", [lexeme])
        row = cursor.fetchone()
    return row[0] if row else 0


def test_related_papers_read_the_paper_with_its_accents_folded(keyword_only, paper):
    language_papers(paper)
    anchor = paper(title="Schrödinger operators", abstract="Spectra of Schrödinger operators.")
    plain = paper(title="Schrodinger waves", abstract="Waves, by Schrodinger.")
    pg.PostgresKeywordIndex().refresh_statistics()
    assert [pk for pk, _ in related.by_postgres_text(anchor, 5)] == [plain.pk]


def test_an_accented_name_typed_as_words_still_finds_its_author(keyword_only, paper):
    """Folded, "Altıntaş" is "Altintas", which english stems to 'altinta': the documents'
    authors hold it unstemmed ('altintas'), as they held 'altıntaş' before folding."""
    tok = paper(title="Tokenizer choice", authors=[{"name": "Gül Sena Altıntaş"}])
    paper(title="Graph networks", authors=[{"name": "Ada Lovelace"}])
    engine = pg.PostgresKeywordIndex()
    engine.refresh_statistics()
    for query in ["Altıntaş", '"Gül Sena Altıntaş"', "Altıntaş tokenizer"]:
        hits, _ = search(query)
        assert (query, [hit.pk for hit in hits]) == (query, [tok.pk])
        assert engine.count_every_word(parse(query), Filters()) == 1, query
