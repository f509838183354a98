"""The pgvector index (PostgreSQL with the vector extension): same answers as exact search,
kept in step with papers, one HNSW index per embedding contract, and the fallbacks."""

import time

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from dailypapers.search import embedders, index_papers, pgvector, search_papers, selectors
from dailypapers.search import services as search_services
from dailypapers.search.embedders import Embedder
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.pgvector import PgVectorStore, PgVectorUnavailable
from dailypapers.search.vectors import VectorStore, get_store, reset_stores


@pytest.fixture
def pg(db):
    if not pgvector.table_ready():
        pytest.skip("needs PostgreSQL with the pgvector extension")


def current_store():
    embedder = embedders.get_embedder()
    return get_store(embedder.contract, embedder.dims)


def all_vectors():
    rows = PaperEmbedding.objects.filter(contract=embedders.get_embedder().contract)
    ids, blobs = zip(*rows.values_list("paper_id", "vector"), strict=True)
    return ids, np.vstack([np.frombuffer(bytes(b), np.float32) for b in blobs])


def exact_top(query, k, vectors=None):
    """The reference: exact cosine over every vector of the current contract (numpy)."""
    ids, matrix = vectors or all_vectors()
    scores = matrix @ query
    top = np.argsort(-scores)[:k]
    return [ids[i] for i in top], scores[top]


def test_it_finds_the_exact_nearest_neighbours_of_real_papers(pg, load_real_papers):
    papers = load_real_papers()
    store = current_store()
    assert isinstance(store, PgVectorStore)
    embedder = embedders.get_embedder()
    texts = [
        "structured pruning of large language models",
        "making diffusion language models decode faster",
        "a benchmark for multimodal reasoning over video",
    ]
    queries = list(embedder.encode(texts))
    queries += list(store.vectors_of([p.pk for p in papers[::100]])[1])
    with connection.cursor() as cursor:
        # The graph, as at scale: on 429 analysed rows the planner rightly scans them all.
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "Index Scan using search_pgvector_hnsw" in store.explain(queries[0])
    recalls = []
    for query in queries:
        labels, sims = store.search(query, 10)
        expected, expected_sims = exact_top(query, 10)
        recalls.append(len(set(labels.tolist()) & set(expected)) / 10)
        assert labels[0] == expected[0]
        assert sims[0] == pytest.approx(expected_sims[0], abs=1e-5)
        assert list(sims) == sorted(sims, reverse=True)
    assert np.mean(recalls) >= 0.95, recalls


def test_it_returns_the_stored_vectors_exactly(pg, paper):
    made = [paper(title=f"Sparse attention for long documents, take {n}") for n in range(3)]
    found, vectors = current_store().vectors_of([made[2].pk, 10**9, made[0].pk])
    assert found == [made[2].pk, made[0].pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT embedding::text FROM search_pgvector WHERE paper_id = %s", [made[2].pk]
        )
        mirrored = np.array(cursor.fetchone()[0].strip("[]").split(","), dtype=np.float32)
    assert np.array_equal(mirrored, vectors[0])  # the text round trip loses nothing


def test_it_follows_updates_hidden_and_deleted_papers(pg, paper):
    embedder = embedders.get_embedder()
    others = [paper(title=f"Speculative decoding for diffusion models {n}") for n in range(5)]
    target = paper(title="Protein folding with graph networks", abstract="Proteins. " * 20)
    store = current_store()
    query = embedder.encode(["quantum error correction codes on superconducting qubits"])[0]
    target.title, target.abstract = "Quantum error correction", "Surface codes on qubits. " * 9
    target.save()
    index_papers([target.pk])
    labels, _ = store.search(query, 3)
    assert labels[0] == target.pk  # the new vector, not the old one

    target.hidden = True
    target.save()
    index_papers([target.pk])
    assert target.pk not in store.search(query, 10)[0]
    assert target not in search_papers("quantum error correction", mode="semantic").papers

    gone = others[0].pk
    others[0].delete()
    index_papers([gone])
    assert gone not in store.search(embedder.encode_papers([others[1]])[0], 10)[0]
    assert len(store) == 4


def test_it_catches_up_on_vectors_written_behind_its_back(pg, paper):
    made = [paper(title=f"Retrieval augmented generation, variant {n}") for n in range(4)]
    assert len(current_store()) == 4  # the first use built the index
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_pgvector")
    reset_stores()
    store = current_store()
    assert len(store) == 0  # the index is there: a new process trusts the table
    call_command("search", "reindex")  # nothing to embed; copies what the table lacks
    assert len(store) == 4
    assert store.search(store.vectors_of([made[1].pk])[1][0], 1)[0][0] == made[1].pk


def test_it_builds_the_index_after_many_new_vectors_instead_of_growing_it(
    pg, paper, make_paper, monkeypatch
):
    made = [paper(title=f"Graph transformers for molecules, part {n}") for n in range(3)]
    store = current_store()
    assert store.has_index()
    monkeypatch.setattr(pgvector, "REBUILD_FROM", 4)
    more = [make_paper(title=f"Sparse autoencoders for interpretability {n}") for n in range(8)]
    during = []

    def progress(_):
        during.append((store.has_index(), pgvector.bulk_write_running()))

    index_papers([p.pk for p in more], progress=progress, batch_size=3)
    assert during == [(False, True)] * 3  # no graph to grow while the vectors go in
    assert store.has_index() and not pgvector.bulk_write_running()
    assert len(store) == 11
    query = store.vectors_of([more[5].pk])[1][0]
    assert "Index Scan using search_pgvector_hnsw" in store.explain(query)
    assert store.search(query, 1)[0][0] == more[5].pk

    during.clear()
    index_papers([made[0].pk, *[p.pk for p in more]], progress=progress)
    assert during == [(True, False)]  # nothing new to embed: the index stays
    one = make_paper(title="Protein language models at scale")
    index_papers([one.pk], progress=progress)
    assert during[-1] == (True, False)  # a few vectors join the graph as before
    assert store.search(store.vectors_of([one.pk])[1][0], 1)[0][0] == one.pk


class TinyEmbedder(Embedder):
    """Another contract with other dimensions: the first 8 dims of the static model."""

    name = "tiny-test"
    dims = 8

    def __init__(self, inner):
        self.inner = inner

    def encode(self, texts):
        vectors = self.inner.encode(texts)[:, : self.dims]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_it_reembeds_under_a_new_contract_with_its_own_index(pg, paper, monkeypatch):
    made = [paper(title=f"Mixture of experts routing, study {n}") for n in range(6)]
    old = current_store()
    tiny = TinyEmbedder(embedders.get_embedder())
    for module in (embedders, search_services, selectors):
        monkeypatch.setattr(module, "get_embedder", lambda: tiny)  # noqa: B023
    call_command("search", "reindex")
    store = current_store()
    assert isinstance(store, PgVectorStore) and store.index_name != old.index_name
    assert len(store) == 6 and len(old) == 0
    query = tiny.encode_papers([made[3]])[0]
    assert store.search(query, 1)[0][0] == made[3].pk
    assert store.vectors_of([made[3].pk])[1].shape == (1, 8)
    assert search_papers("mixture of experts routing", mode="semantic").mode == "hybrid"


def test_it_says_which_vector_index_is_in_use(pg, paper, capsys):
    paper(title="Long-context evaluation of language models")
    call_command("search", "status")
    assert "vector index:        pgvector HNSW (1 vector," in capsys.readouterr().out


def test_it_keeps_vectors_in_memory_when_told_or_without_pgvector(
    db, paper, settings, monkeypatch, caplog
):
    made = paper(title="Instruction tuning with synthetic data")
    settings.SEARCH_VECTOR_INDEX = "memory"
    reset_stores()
    store = current_store()
    assert isinstance(store, VectorStore)
    assert store.search(store.vectors_of([made.pk])[1][0], 1)[0][0] == made.pk

    settings.SEARCH_VECTOR_INDEX = "auto"
    reset_stores()
    # PostgreSQL without pgvector: no table, and none can be made.
    monkeypatch.setattr(pgvector, "_present", lambda *names: [False] * len(names))
    monkeypatch.setattr(pgvector, "table_ready", lambda: False)
    monkeypatch.setattr(pgvector, "_said", set())
    caplog.set_level("INFO", logger="dailypapers.search.pgvector")
    assert isinstance(current_store(), VectorStore)
    if connection.vendor == "postgresql":
        assert "without the pgvector extension" in caplog.text

    settings.SEARCH_VECTOR_INDEX = "pgvector"
    reset_stores()
    with pytest.raises(PgVectorUnavailable):
        current_store()
    results = search_papers("instruction tuning", mode="semantic")
    assert results.mode == "keyword" and results.notice == selectors.SEMANTIC_OFF


def test_it_rejects_an_unknown_vector_index_setting(db, settings):
    settings.SEARCH_VECTOR_INDEX = "faiss"
    reset_stores()
    with pytest.raises(PgVectorUnavailable, match="auto, pgvector, memory"):
        current_store()


@pytest.mark.slow
def test_it_keeps_recall_above_95_percent_at_10k_vectors(pg, load_real_papers):
    """HNSW recall against exact search, on 10k vectors made from real papers' vectors."""
    from dailypapers.papers.models import Paper

    papers = load_real_papers()
    real = current_store().vectors_of([p.pk for p in papers])[1]
    rng = np.random.default_rng(7)
    template = papers[0]
    extra = [
        Paper(arxiv_id=f"2699.{n:05d}", title=f"Synthetic {n}", abstract=".",
              authors=[], categories=["cs.CL"], primary_category="cs.CL",
              published_at=template.published_at)
        for n in range(10_000 - len(papers))
    ]  # fmt: skip
    Paper.objects.bulk_create(extra, batch_size=2000)
    ids = list(Paper.objects.filter(arxiv_id__startswith="2699.").values_list("pk", flat=True))
    # Realistic vectors: each a blend of two real papers' vectors plus a little noise.
    picks = rng.integers(0, len(real), size=(len(ids), 2))
    mixed = real[picks[:, 0]] + 0.6 * real[picks[:, 1]] + rng.normal(0, 0.02, (len(ids), 256))
    mixed = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)
    contract = embedders.get_embedder().contract
    PaperEmbedding.objects.bulk_create(
        [PaperEmbedding(paper_id=pk, contract=contract, vector=v.tobytes()) for pk, v in
         zip(ids, mixed, strict=True)], batch_size=2000,
    )  # fmt: skip
    reset_stores()
    started = time.perf_counter()
    store = current_store()
    store.catch_up()  # as reindex does: copies the rows, rebuilds the HNSW index
    print(f"copied and indexed in {time.perf_counter() - started:.1f} s")
    assert len(store) == 10_000
    assert "Index Scan using search_pgvector_hnsw" in store.explain(real[0])  # rebuilt
    vectors, recalls = all_vectors(), []
    for query in real[rng.choice(len(real), 50, replace=False)] + 0.01:
        query = query / np.linalg.norm(query)
        expected, _ = exact_top(query, 10, vectors)
        recalls.append(len(set(store.search(query, 10)[0].tolist()) & set(expected)) / 10)
    assert np.mean(recalls) >= 0.95, np.mean(recalls)
    # More than pgvector's ef_search cap of 1000: the scan goes on (iterative scan).
    assert len(set(store.search(query, 1500)[0].tolist())) == 1500
