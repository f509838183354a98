""" "For you" quality on real papers: ours (recommend_for) against arxiv-sanity-lite's method
(a linear SVM on tf-idf of the member's liked papers), in one run.

Corpus: the Hugging Face daily papers in ../shared/data (the related_quality.py database).
Simulated members (seeded): each follows one HF ai_keyword held by 12..200 papers; their
likes are those papers. 70% of the likes are upvotes, the other 30% are held out; a pick
is relevant when it is a held-out like. Metrics: precision@10 and nDCG@10.
Limits: a member with one interest is simpler than a real reader, and ai_keywords come
from the abstracts, which favours word-based methods (the SVM).

    .venv/bin/python bench/recommend_quality.py [--members 40] [--data-dir DIR]
"""

import argparse
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import real_data
import related_quality as rq
import search_quality as sq

K = 10


def scores(picks, held_out):
    hits = [1.0 if pid in held_out else 0.0 for pid in picks[:K]]
    ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(held_out))))
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
    return sum(hits) / K, dcg / ideal if ideal else 0.0


def svm_anchor(rows):
    """arxiv-sanity-lite: tf-idf (1-2 grams) of title+abstract, LinearSVC per member."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    ids = [row[0] for row in rows]
    matrix = TfidfVectorizer(
        ngram_range=(1, 2), max_features=20000, stop_words="english", sublinear_tf=True
    ).fit_transform([f"{row[1]} {row[2]}" for row in rows])

    def recommend(liked):
        labels = [1 if pid in liked else 0 for pid in ids]
        model = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000).fit(matrix, labels)
        order = (-model.decision_function(matrix)).argsort()
        return [ids[i] for i in order if ids[i] not in liked][:K]

    return recommend


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/dp-related-bench")
    parser.add_argument("--members", type=int, default=40)
    real_data.add_option(parser)
    args = parser.parse_args()
    sq.DATA = real_data.require(args.data, real_data.HF_DAYS)
    sq.setup_django(Path(args.data_dir))
    rows, keywords, _ = rq.hf_rows()
    sq.load_corpus(rows)

    from django.contrib.auth import get_user_model

    from dailypapers.papers.models import Paper, Vote
    from dailypapers.search import recommend_for

    by_keyword = defaultdict(set)
    for pid, words in keywords.items():
        for word in words:
            by_keyword[word].add(pid)
    rng = random.Random(11)
    interests = sorted(w for w, ps in by_keyword.items() if 12 <= len(ps) <= 200)
    pk_of = dict(Paper.objects.values_list("arxiv_id", "pk"))
    svm = svm_anchor(rows)
    results = {"arxiv-sanity-lite SVM (anchor)": [], "ours: recommend_for": []}
    User = get_user_model()
    times, example = [], None
    for n, interest in enumerate(rng.sample(interests, min(args.members, len(interests)))):
        likes = sorted(by_keyword[interest])
        rng.shuffle(likes)
        cut = int(len(likes) * 0.7)
        liked, held_out = set(likes[:cut]), set(likes[cut:])
        user, _ = User.objects.get_or_create(username=f"bench-member-{n}")
        Vote.objects.filter(user=user).delete()
        Vote.objects.bulk_create([Vote(user=user, paper_id=pk_of[pid]) for pid in liked])
        started = time.perf_counter()
        picks = recommend_for(user, limit=K)
        times.append(time.perf_counter() - started)
        ours = [r.paper.arxiv_id for r in picks]
        example = example or f"{picks[0].paper.title[:60]}: {picks[0].reason[:140]}"
        results["ours: recommend_for"].append(scores(ours, held_out))
        results["arxiv-sanity-lite SVM (anchor)"].append(scores(svm(liked), held_out))
    print(f"members: {len(results['ours: recommend_for'])}, held-out 30% of likes;"
          f" recommend_for p50 {statistics.median(times) * 1000:.0f} ms")  # fmt: skip
    print(f"a pick and its reason: {example}")
    for name, pairs in results.items():
        precision = statistics.mean(p for p, _ in pairs)
        gain = statistics.mean(g for _, g in pairs)
        print(f"  {name:34s} precision@{K} {precision:.3f}   nDCG@{K} {gain:.3f}")


if __name__ == "__main__":
    sys.exit(main())
