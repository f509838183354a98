"""The per-process HNSW index (hnswlib) that large instances use: the vectors it hands out
for fusion are the stored ones, in the order asked, of the current contract only."""

import numpy as np
import pytest

from dailypapers.search import embedders, vectors
from dailypapers.search.models import PaperEmbedding

TOPICS = [
    "Structured pruning of large language models",
    "Speculative decoding with a small draft model",
    "Text-to-video generation with diffusion transformers",
    "Reward hacking in reinforcement learning from human feedback",
    "Mixture-of-experts layers with token routing",
    "Compressing the key-value cache for long contexts",
]


@pytest.fixture(autouse=True)
def in_memory_index(settings):
    settings.SEARCH_VECTOR_INDEX = "memory"  # on PostgreSQL with pgvector too


def stored_vector(paper):
    return np.frombuffer(bytes(PaperEmbedding.objects.get(paper=paper).vector), np.float32)


def test_it_hands_out_the_stored_vectors_from_an_hnsw_index(paper, monkeypatch):
    monkeypatch.setattr(vectors, "HNSW_THRESHOLD", 3)
    papers = [paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS]
    embedder = embedders.get_embedder()
    store = vectors.get_store(embedder.contract, embedder.dims)

    found, matrix = store.vectors_of([papers[4].pk, 10**9, papers[1].pk])

    assert isinstance(store.index, vectors.HnswIndex)
    assert found == [papers[4].pk, papers[1].pk]
    assert np.array_equal(matrix, np.vstack([stored_vector(papers[4]), stored_vector(papers[1])]))
    in_graph, graph_matrix = store.view.graph.get(found)  # the published graph...
    in_tail, tail_matrix = store.view.tail.get(found)  # ...and the newer vectors beyond it
    held = dict(zip(in_graph, graph_matrix, strict=True)) | dict(
        zip(in_tail, tail_matrix, strict=True)
    )
    assert np.array_equal(matrix, np.vstack([held[pk] for pk in found]))
    assert store.search(matrix[0], 1)[0][0] == papers[4].pk


def test_it_leaves_out_vectors_of_another_contract(paper, monkeypatch):
    monkeypatch.setattr(vectors, "HNSW_THRESHOLD", 3)
    papers = [paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS]
    embedder = embedders.get_embedder()
    store = vectors.get_store(embedder.contract, embedder.dims)
    PaperEmbedding.objects.filter(paper=papers[0]).update(contract="an-older-model")

    found, matrix = store.vectors_of([papers[0].pk, papers[2].pk])

    assert found == [papers[2].pk]
    assert matrix.shape == (1, embedder.dims)
