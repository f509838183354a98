""" "For you" quality on real papers: ours (recommend_for) against arxiv-sanity-lite's method
(a linear SVM on tf-idf of the member's liked papers), in one run.

Corpus: the Hugging Face daily papers in ../shared/data (the related_quality.py database).
Simulated members, four kinds, reported apart (they and the random sample of papers are
seeded: two runs give one figure):
  one-keyword  each follows one HF ai_keyword held by 12..200 papers; their likes are
               those papers.
  mixed        each has 2-3 interests, each an ai_keyword (as above) or an author with
               8..60 papers; their likes are the union: a reader who follows a few topics
               and a few people.
  one-author   each likes the papers of one author with 8..60 papers.
  one-category each likes the papers of one arXiv category (any of a paper's categories,
               from the arXiv listings of ../shared/data, which hold a third of the HF
               papers) held by 12..200 papers: a field, broader than a keyword.
70% of each member's likes are upvotes, the other 30% are held out; a pick is relevant
when it is a held-out like. Metrics: precision@10 and nDCG@10.
Limits: ai_keywords come from the abstracts, which favours word-based methods (the SVM);
an author's papers are not all on one topic, so an author interest is only partly
predictable from text (the SVM anchor sees text only, ours sees the authors too); the
papers are filed under their listed categories, as ingest from arXiv files them, and a
one-category member likes every such paper of their category, which ours reads directly
(a real member's likes are a part of a field).
Cost: recommend_for's wall clock per member, uncached (the first visit after the
member's likes or the index changed) and cached (every other visit).

    .venv/bin/python bench/recommend_quality.py [--members 40] [--seed 11] [--kinds KIND,...]
        [--data-dir DIR]
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
SEED = 11  # members, their held-out likes, the random sample of papers (--seed)
KEYWORD_PAPERS = (12, 200)  # an ai_keyword held by this many papers is an interest
AUTHOR_PAPERS = (8, 60)  # an author with this many papers is an interest
CATEGORY_PAPERS = (12, 200)  # an arXiv category with this many papers is an interest
KINDS = ("one-keyword", "mixed", "one-author", "one-category")


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
        model = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, random_state=0)
        model.fit(matrix, labels)
        order = (-model.decision_function(matrix)).argsort()
        return [ids[i] for i in order if ids[i] not in liked][:K]

    return recommend


def categories_of(ids):
    """{arXiv id: [categories]} of the papers of `ids` found in the arXiv listings."""
    import gzip
    import json

    found = {}
    with gzip.open(sq.DATA / real_data.LISTINGS, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in ids:
                found[record["id"]] = record["categories"]
    return found


def with_categories(Paper, categories):
    """The papers' arXiv categories as ingest stores them (the HF daily files have none):
    the listed ones, the first being the primary one."""
    changed = []
    for paper in Paper.objects.filter(arxiv_id__in=categories).only("pk", "arxiv_id"):
        paper.categories = categories[paper.arxiv_id]
        paper.primary_category = paper.categories[0]
        changed.append(paper)
    Paper.objects.bulk_update(changed, ["categories", "primary_category"], batch_size=1000)


def interests(keywords, authors, categories):
    """{kind: {name: set of arXiv ids}} of the interests a member may have."""
    by = {"keyword": defaultdict(set), "author": defaultdict(set), "category": defaultdict(set)}
    for kind, held in (("keyword", keywords), ("author", authors), ("category", categories)):
        for pid, names in held.items():
            for name in names:
                by[kind][name].add(pid)
    bounds = {"keyword": KEYWORD_PAPERS, "author": AUTHOR_PAPERS, "category": CATEGORY_PAPERS}
    return {
        kind: {name: ps for name, ps in found.items() if low <= len(ps) <= high}
        for kind, found in by.items()
        for low, high in [bounds[kind]]
    }


def members(pool, count, rng):
    """[(label, liked, held out)]: `count` one-keyword members, then `count` mixed ones."""
    keywords, people = sorted(pool["keyword"]), sorted(pool["author"])
    out = []
    for word in rng.sample(keywords, min(count, len(keywords))):
        out.append(("one-keyword", f"keyword {word!r}", set(pool["keyword"][word])))
    for _ in range(count):
        chosen = []
        for _ in range(rng.choice((2, 3))):
            kind = rng.choice(("keyword", "author"))
            name = rng.choice(keywords if kind == "keyword" else people)
            chosen.append((kind, name))
        likes = set().union(*(pool[kind][name] for kind, name in chosen))
        out.append(("mixed", " + ".join(f"{k} {n!r}" for k, n in chosen), likes))
    return _split(out, rng)


def single_members(pool, count, rng):
    """[(label, liked, held out)]: `count` one-author members, then `count` one-category
    ones (a generator of their own: the other kinds' members do not change with these)."""
    out = []
    for kind in ("author", "category"):
        for name in rng.sample(sorted(pool[kind]), min(count, len(pool[kind]))):
            out.append((f"one-{kind}", f"{kind} {name!r}", set(pool[kind][name])))
    return _split(out, rng)


def _split(out, rng):
    """The members' likes split 70 / 30 into upvotes and held-out likes."""
    split = []
    for kind, label, likes in out:
        likes = sorted(likes)
        rng.shuffle(likes)
        cut = int(len(likes) * 0.7)
        split.append((kind, label, set(likes[:cut]), set(likes[cut:])))
    return split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/dp-related-bench")
    parser.add_argument("--members", type=int, default=40, help="members of each kind")
    parser.add_argument("--seed", type=int, default=SEED, help="members and random sample")
    parser.add_argument("--kinds", default=",".join(KINDS), help="the kinds of member measured")
    real_data.add_option(parser)
    args = parser.parse_args()
    sq.DATA = real_data.require(args.data, real_data.HF_DAYS, real_data.LISTINGS)
    sq.setup_django(Path(args.data_dir))
    rows, keywords, authors = rq.hf_rows()
    sq.load_corpus(rows)
    categories = categories_of({row[0] for row in rows})

    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from dailypapers.papers.models import Paper, Vote
    from dailypapers.search import recommend_for, related

    # The random sample (document frequencies, the SVM's random negatives) drawn the same
    # way each run: two runs give one figure.
    related.SAMPLE_SEED = args.seed
    related.forget_frequencies()
    pool = interests(keywords, authors, categories)
    print(f"interests: {len(pool['keyword'])} ai_keywords with {KEYWORD_PAPERS[0]}-"
          f"{KEYWORD_PAPERS[1]} papers, {len(pool['author'])} authors with "
          f"{AUTHOR_PAPERS[0]}-{AUTHOR_PAPERS[1]} papers, {len(pool['category'])} arXiv "
          f"categories with {CATEGORY_PAPERS[0]}-{CATEGORY_PAPERS[1]} papers "
          f"({len(categories)} papers with categories)")  # fmt: skip
    pk_of = dict(Paper.objects.values_list("arxiv_id", "pk"))
    with_categories(Paper, categories)
    svm = svm_anchor(rows)
    systems = ("arxiv-sanity-lite SVM (anchor)", "ours: recommend_for")
    results = defaultdict(list)
    User = get_user_model()
    uncached, cached, example = [], [], None
    cache.clear()
    everyone = members(pool, args.members, random.Random(args.seed)) + single_members(
        pool, args.members, random.Random(args.seed + 1)
    )
    kinds = [kind for kind in KINDS if kind in args.kinds.split(",")]
    for n, (kind, _, liked, held_out) in enumerate(everyone):
        if kind not in kinds:
            continue
        user, _ = User.objects.get_or_create(username=f"bench-member-{n}")
        Vote.objects.filter(user=user).delete()
        Vote.objects.bulk_create([Vote(user=user, paper_id=pk_of[pid]) for pid in liked])
        started = time.perf_counter()
        picks = recommend_for(user, limit=K)
        uncached.append(time.perf_counter() - started)
        started = time.perf_counter()
        recommend_for(user, limit=K)
        cached.append(time.perf_counter() - started)
        ours = [r.paper.arxiv_id for r in picks]
        example = example or f"{picks[0].paper.title[:60]}: {picks[0].reason[:140]}"
        results[kind, systems[0]].append(scores(svm(liked), held_out))
        results[kind, systems[1]].append(scores(ours, held_out))
    print(f"members: {args.members} of each kind (seed {args.seed}), 30% of likes held out; "
          f"recommend_for p50 "
          f"{statistics.median(uncached) * 1000:.0f} ms uncached, "
          f"{statistics.median(cached) * 1000:.1f} ms cached")  # fmt: skip
    print(f"a pick and its reason: {example}")
    for kind in kinds:
        for name in systems:
            pairs = results[kind, name]
            precision = statistics.mean(p for p, _ in pairs)
            gain = statistics.mean(g for _, g in pairs)
            print(f"  {kind:12s} {name:34s} precision@{K} {precision:.3f}   nDCG@{K} {gain:.3f}")


if __name__ == "__main__":
    sys.exit(main())
