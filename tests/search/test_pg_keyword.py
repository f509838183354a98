"""The PostgreSQL keyword engine's own behaviour (PostgreSQL only)."""

import pytest
from django.db import connection

from dailypapers.search import pg
from dailypapers.search.keyword import Filters
from dailypapers.search.query import parse

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL keyword engine"
)


def test_common_words_rank_papers_but_do_not_select_them(keyword_only, paper, monkeypatch):
    for number in range(10):  # titles unlike the query: the trigram branch stays out
        paper(title=f"Study number {number}", abstract="A language model. Models of language.")
    pruned = paper(title="Pruning", abstract="We prune a language model.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_pgdocument")  # the statistics that name common words
    monkeypatch.setattr(pg, "_common", (0.0, frozenset()))
    assert {"model", "languag"} <= pg._common_lexemes()
    engine, query = pg.PostgresKeywordIndex(), parse("language model pruning")
    hits, total = engine.search(query, Filters(), limit=1)
    assert (total, hits[0].pk) == (1, pruned.pk)  # only "pruning" selects
    hits, total = engine.search(query, Filters(), limit=20)
    assert (total, hits[0].pk) == (11, pruned.pk)  # too few: every word selects again
