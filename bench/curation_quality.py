"""How well can a model trained on past daily pages pick the papers the community features?

Back-test on the real data (../shared/data): the arXiv listings (2025-03 on) and the HF daily
pages. For each test day D (an HF day on or after --cutoff), the pool is the papers first
listed on the 4 announcement days up to D that were not featured before D; the positives are
the pool's papers the HF page featured on D. The models learn only from days before --cutoff
and use, for every pool, only what was known before its day (authors' earlier picks and
upvotes). Prints recall@K and upvote-weighted recall@K averaged over the test days, for:

- random picks (anchor),
- tf-idf logistic regression on title + abstract (anchor),
- authors' past picks alone (anchor),
- gradient-boosted trees (scikit-learn HistGradientBoosting) over the tf-idf score, the
  authors' past reception and the listing's metadata.

    .venv/bin/python bench/curation_quality.py [--data DIR] [--cutoff 2025-10-01] [--k 20]
"""

import argparse
import bisect
import collections
import datetime as dt
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402

POOL_DAYS = 4
CATEGORIES = ("cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.RO", "cs.IR", "cs.SD", "cs.MA")
CODE = re.compile(r"github\.com|code (is )?(available|released)|huggingface\.co", re.I)
PROJECT = re.compile(r"project page|https?://\S+\.github\.io", re.I)
VENUE = re.compile(r"accepted|neurips|iclr|icml|cvpr|iccv|eccv|acl|emnlp|naacl|aaai", re.I)


def name_key(name):
    return " ".join(name.lower().split())


def load(data):
    papers = {}
    with gzip.open(data / real_data.LISTINGS, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            record["listed"] = dt.date.fromisoformat(record["listed"])
            papers[record["id"]] = record
    picks = collections.defaultdict(dict)  # day -> {arxiv id: upvotes}
    authors_of = {}
    for path in sorted((data / real_data.HF_DAYS).glob("*.json")):
        day = dt.date.fromisoformat(path.stem)
        for entry in json.loads(path.read_text()):
            paper = entry["paper"]
            picks[day][paper["id"]] = paper.get("upvotes") or 0
            authors_of[paper["id"]] = [name_key(a["name"]) for a in paper.get("authors", [])]
    return papers, dict(picks), authors_of


class History:
    """Authors' featured papers and their upvotes, queried as known before a day."""

    def __init__(self, picks, authors_of):
        self.by_author = collections.defaultdict(list)  # name -> sorted [(day, upvotes)]
        self.first_featured = {}
        for day in sorted(picks):
            for arxiv_id, upvotes in picks[day].items():
                self.first_featured.setdefault(arxiv_id, day)
                for name in authors_of.get(arxiv_id, []):
                    self.by_author[name].append((day, upvotes))

    def reception(self, names, day):
        """(featured papers, total upvotes, best author's count) of these authors before day."""
        counts, upvotes = [], 0
        for name in names:
            history = self.by_author.get(name_key(name), ())
            end = bisect.bisect_left(history, (day, -1))
            counts.append(end)
            upvotes += sum(u for _, u in history[:end])
        return sum(counts), upvotes, max(counts, default=0)


def pools(papers, picks, history, days):
    """(day, [candidate ids], {positive id: upvotes}) for each day with a positive."""
    listed_days = sorted({p["listed"] for p in papers.values()})
    by_listed = collections.defaultdict(list)
    for arxiv_id, paper in papers.items():
        by_listed[paper["listed"]].append(arxiv_id)
    for day in days:
        end = bisect.bisect_right(listed_days, day)
        window = listed_days[max(0, end - POOL_DAYS) : end]
        pool = [
            arxiv_id
            for listed in window
            for arxiv_id in by_listed[listed]
            if history.first_featured.get(arxiv_id, dt.date.max) >= day
        ]
        positives = {i: u for i, u in picks.get(day, {}).items() if i in set(pool)}
        if positives:
            yield day, pool, positives


def features(paper, day, history, text_score):
    featured, upvotes, best = history.reception(paper["authors"], day)
    blob = f"{paper.get('comment') or ''} {paper['summary']}"
    primary = paper["categories"][0] if paper["categories"] else ""
    return [
        text_score,
        featured,
        np.log1p(upvotes),
        best,
        len(paper["authors"]),
        len(paper["categories"]),
        (day - paper["listed"]).days,
        len(paper["summary"]),
        bool(CODE.search(blob)),
        bool(PROJECT.search(blob)),
        bool(VENUE.search(paper.get("comment") or "")),
        *(primary == c for c in CATEGORIES),
        *(c in paper["categories"] for c in CATEGORIES),
    ]


def recall(ranked_pools, k):
    plain, weighted = [], []
    for ranked, positives in ranked_pools:
        top = set(ranked[:k])
        plain.append(len(top & positives.keys()) / len(positives))
        total = sum(positives.values()) or 1
        weighted.append(sum(u for i, u in positives.items() if i in top) / total)
    return float(np.mean(plain)), float(np.mean(weighted))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    real_data.add_option(parser)
    parser.add_argument("--cutoff", type=dt.date.fromisoformat, default=dt.date(2025, 10, 1))
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    data = real_data.require(args.data, real_data.LISTINGS, real_data.HF_DAYS)
    started = time.perf_counter()
    papers, picks, authors_of = load(data)
    history = History(picks, authors_of)
    hf_days = sorted(d for d in picks if d >= min(p["listed"] for p in papers.values()))
    train = list(pools(papers, picks, history, [d for d in hf_days if d < args.cutoff]))
    test = list(pools(papers, picks, history, [d for d in hf_days if d >= args.cutoff]))
    print(f"{len(train)} training days, {len(test)} test days (from {args.cutoff}); "
          f"pool {np.median([len(p) for _, p, _ in test]):.0f} papers and "
          f"{np.median([len(q) for _, _, q in test]):.0f} picks a day (medians)")  # fmt: skip

    # Text: one row per training paper, positive if the page featured it from its pool.
    train_ids = sorted({i for _, pool, _ in train for i in pool})
    chosen = {i for _, _, positives in train for i in positives}
    text_of = {i: f"{p['title']}. {p['summary']}" for i, p in papers.items()}
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=3, max_features=100_000,
                                 ngram_range=(1, 2), stop_words="english")  # fmt: skip
    x_train = vectorizer.fit_transform(text_of[i] for i in train_ids)
    y_train = np.array([i in chosen for i in train_ids])
    text_model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    # Out-of-fold scores for the trees' training rows, so they do not learn an overfit score.
    oof = cross_val_predict(text_model, x_train, y_train, cv=4, method="decision_function")
    text_model.fit(x_train, y_train)
    score_train = dict(zip(train_ids, oof, strict=True))
    test_ids = sorted({i for _, pool, _ in test for i in pool})
    score_test = dict(zip(test_ids, text_model.decision_function(
        vectorizer.transform(text_of[i] for i in test_ids)), strict=True))  # fmt: skip

    rows, labels = [], []
    for day, pool, positives in train:
        for arxiv_id in pool:
            rows.append(features(papers[arxiv_id], day, history, score_train[arxiv_id]))
            labels.append(arxiv_id in positives)
    trees = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05,
                                           max_leaf_nodes=31, random_state=0)  # fmt: skip
    trees.fit(np.array(rows, dtype=float), np.array(labels))
    trained = time.perf_counter() - started

    rng = random.Random(0)
    ranked = collections.defaultdict(list)
    for day, pool, positives in test:
        shuffled = rng.sample(pool, len(pool))
        ranked["random picks"].append((shuffled, positives))
        by_text = sorted(pool, key=lambda i: -score_test[i])
        ranked["tf-idf logistic regression"].append((by_text, positives))
        past = {i: history.reception(papers[i]["authors"], day) for i in pool}
        by_authors = sorted(pool, key=lambda i: (-past[i][0], -past[i][1], -score_test[i]))
        ranked["authors' past picks"].append((by_authors, positives))
        x = np.array([features(papers[i], day, history, score_test[i]) for i in pool], float)
        scores = trees.predict_proba(x)[:, 1]
        by_trees = [pool[n] for n in np.argsort(-scores)]
        ranked["boosted trees (text + authors + metadata)"].append((by_trees, positives))

    print(f"trained in {trained:.0f} s on {len(rows):,} rows")
    print(f"\n| system | recall@{args.k} | upvote-weighted recall@{args.k} |\n|---|---|---|")
    for system, results in ranked.items():
        plain, weighted = recall(results, args.k)
        print(f"| {system} | {plain:.3f} | {weighted:.3f} |")


if __name__ == "__main__":
    main()
