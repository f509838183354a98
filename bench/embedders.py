"""The embedder study: each candidate's related-papers quality and its encode cost, one run.

For every embedder named with --embedders (DAILYPAPERS_EMBEDDER values: "static", a static
model's folder, "onnx:<folder>"), on the corpus and judgements of bench/related_quality.py
(6,141 HF daily papers, graded by shared HF ai_keywords + a shared author):
  - encode cost: papers/s over --speed-sample papers (title + abstract, as indexed), with a
    fresh embedder (its word cache cold), on this machine's 2 cores, beside the load average;
  - vectors only: NDCG@20 of the nearest papers by cosine (exact, in memory);
  - fused: our keyword query-by-document fused with those neighbours (related.fuse), then
    the phrase stage (related.by_phrases): related_papers as it would answer with it;
  - re-ranked: that pool ordered by phrase cosine + --meaning-weight x vector cosine, both
    standardised over the pool (related.by_phrases with `meaning`).
The bm25s query-by-document anchor is printed in the same run. Corpus vectors are cached
per embedder in --data-dir (the encode cost is always measured afresh).

    .venv/bin/python bench/embedders.py --embedders static,onnx:/path/to/minilm-int8
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import real_data
import related_quality as rq

K = rq.K


def corpus_vectors(embedder, rows, cache_dir):
    """(matrix of the corpus's vectors, row of each arxiv id), cached per embedder."""
    from tqdm import tqdm

    from dailypapers.search.embedders import paper_text

    path = Path(cache_dir) / f"vectors-{embedder.name}.npy"
    if path.exists():
        matrix = np.load(path)
    else:
        texts = [paper_text(row[1], row[2]) for row in rows]
        parts = [
            embedder.encode(texts[i : i + 256])
            for i in tqdm(range(0, len(texts), 256), desc=embedder.name, unit="batch")
        ]
        matrix = np.vstack(parts).astype(np.float32)
        np.save(path, matrix)
    return matrix, {row[0]: i for i, row in enumerate(rows)}


def encode_speed(spec, rows, count):
    """Papers per second for a fresh embedder over `count` papers (one warm-up call first)."""
    from dailypapers.search.embedders import make_embedder, paper_text

    embedder = make_embedder(spec)
    texts = [paper_text(row[1], row[2]) for row in rows[-count:]]
    embedder.encode(texts[:2])
    started = time.perf_counter()
    embedder.encode(texts)
    return count / (time.perf_counter() - started)


def systems_for(spec, matrix, row_of, id_of, pk_of, weight):
    from dailypapers.search import related

    related.MEANING_WEIGHT = weight

    def neighbours(paper, k):
        scores = matrix @ matrix[row_of[paper.arxiv_id]]
        top = np.argpartition(-scores, k + 1)[: k + 1]
        top = top[np.argsort(-scores[top])]
        ids = [pk_of[int(i)] for i in top]
        return [pk for pk in ids if pk != paper.pk][:k]

    def pool(paper):
        return related.fuse(
            related.by_keywords(paper, related.POOL_BY_TEXT),
            neighbours(paper, related.POOL_BY_MEANING),
        )

    def reranked(paper):
        pks = pool(paper)
        mine = matrix[row_of[paper.arxiv_id]]
        meaning = {pk: float(matrix[row_of[id_of[pk]]] @ mine) for pk in pks}
        return related.by_phrases(paper, pks, meaning)

    return {
        f"{spec}: vectors only": lambda p: [id_of[pk] for pk in neighbours(p, K)],
        f"{spec}: fused + phrase stage": lambda p: [
            id_of[pk] for pk in related.by_phrases(p, pool(p))
        ],
        f"{spec}: fused + phrases & {weight} x meaning": lambda p: [
            id_of[pk] for pk in reranked(p)
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/dp-related-bench")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedders", default="static")
    parser.add_argument("--speed-sample", type=int, default=200)
    parser.add_argument("--meaning-weight", type=float, default=0.1)
    real_data.add_option(parser)
    args = parser.parse_args()
    bench = rq.Bench(args)
    from dailypapers.search.embedders import make_embedder

    rows, id_of, queries, papers = bench.rows, bench.id_of, bench.queries, bench.papers
    keywords, authors, by_keyword = bench.keywords, bench.authors, bench.by_keyword
    systems = {
        "bm25s query-by-document (anchor)": bench.anchor,
    }
    speeds = {}
    for spec in args.embedders.split(","):
        embedder = make_embedder(spec)
        matrix, row_of = corpus_vectors(embedder, rows, args.data_dir)
        pk_of = {row_of[arxiv_id]: pk for pk, arxiv_id in id_of.items() if arxiv_id in row_of}
        systems.update(systems_for(spec, matrix, row_of, id_of, pk_of, args.meaning_weight))
        speeds[spec] = (encode_speed(spec, rows, args.speed_sample), embedder.dims)

    load = os.getloadavg()[0]
    print(f"encode cost ({args.speed_sample} papers, fresh embedder, load {load:.1f}):")
    for spec, (speed, dims) in speeds.items():
        hours = 1_000_000 / speed / 3600
        print(f"  {spec:50s} {dims:4d} dims {speed:8.1f} papers/s  (1M papers: {hours:.1f} h)")
    print(f"queries: {len(queries)} papers with >= 3 graded papers; NDCG@{K}")
    for name, run in systems.items():
        scores = [
            rq.ndcg(run(papers[pid]), rq.judgements(pid, keywords, authors, by_keyword))
            for pid in queries
        ]
        print(f"  {name:60s} NDCG@{K} {statistics.mean(scores):.3f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
