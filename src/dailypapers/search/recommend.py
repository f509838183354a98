"""For you: arxiv-sanity-lite's method (a linear SVM per member on tf-idf of the papers they
liked, against random papers) over the candidates our engines find.

arxiv-sanity-lite scores every paper of its corpus with the member's SVM; at a million
papers that is too much per request, so the SVM re-ranks a pool instead: the keyword
query-by-document neighbours of the member's liked papers, fused with the embedding model's
nearest papers (selectors._recommend_by_model). Features are related.py's: hashed 1-3 word
n-grams, sublinear tf x idf from the per-process random sample of the corpus, whose papers
are also the SVM's negatives. Each pick's reason names the liked paper closest to it and the
phrases that weigh most for it in the member's model.
"""

import numpy as np
from scipy.sparse import vstack
from sklearn.svm import LinearSVC

from dailypapers.papers.models import Paper

from . import related

SVM_C = 0.1  # bench/recommend_quality.py: 0.1 and 0.03 alike, 1.0 lower
MAX_POSITIVES = 300  # the most recent likes train the model (a cost cap)
REASON_PHRASES = 2


def _texts(pks):
    rows = Paper.objects.filter(pk__in=pks).values_list("pk", "title", "abstract")
    texts = {pk: f"{title} {abstract[: related.ABSTRACT_CHARS]}" for pk, title, abstract in rows}
    return [pk for pk in pks if pk in texts], [texts[pk] for pk in pks if pk in texts]


class MemberModel:
    """The member's linear SVM over tf-idf n-grams; None when it cannot be trained."""

    def __init__(self, positives, negatives=()):
        sample = related.corpus_sample()
        self.vectorizer = related._vectorizer()
        self.idf = related.idf_of(sample["df"], sample["docs"])
        _, liked = _texts(list(positives)[-MAX_POSITIVES:])
        disliked_pks, disliked = _texts(list(negatives))
        positive_set = set(positives)
        keep = [i for i, pk in enumerate(sample["pks"]) if pk not in positive_set]
        parts = [self.features(liked)]
        if disliked:
            parts.append(self.features(disliked))
        if keep and sample["counts"] is not None:
            parts.append(related.weigh(sample["counts"][keep], self.idf))
        labels = [1] * len(liked) + [0] * (len(disliked) + len(keep))
        if not liked or len(labels) == len(liked):
            raise ValueError("the model needs liked papers and other papers")
        self.svm = LinearSVC(class_weight="balanced", C=SVM_C, max_iter=10000)
        self.svm.fit(vstack(parts).tocsr(), labels)

    def features(self, texts):
        return related.weigh(self.vectorizer.transform(texts), self.idf)

    def rank(self, pks):
        """[(paper id, text)] of pks, best first by the member's model."""
        pks, texts = _texts(pks)
        if not pks:
            return []
        scores = self.svm.decision_function(self.features(texts))
        return [(pks[i], texts[i]) for i in np.argsort(-scores, kind="stable")]

    def phrases(self, text):
        """The words and phrases of `text` that count most for this member, strongest first."""
        from sklearn.utils import murmurhash3_32

        coef = self.svm.coef_[0]
        weight = {}
        for term in set(self.vectorizer.build_analyzer()(text)):
            if len(term) > 2 and not term.isdigit():
                bucket = abs(murmurhash3_32(term, seed=0)) % related.HASH_BUCKETS
                weight[term] = coef[bucket] * self.idf[bucket]
        chosen = []
        for term in sorted(weight, key=lambda t: (-weight[t], t)):
            if weight[term] <= 0 or len(chosen) == REASON_PHRASES:
                break
            term = _whole_phrase(term, weight)
            if not any(f" {term} " in f" {c} " or f" {c} " in f" {term} " for c in chosen):
                chosen.append(term)
        return chosen


def _whole_phrase(term, weight):
    """The longest phrase holding `term` that weighs at least half as much: a reader knows
    "low rank adaptation" where the model may weigh "adaptation" a little more."""
    longer = [
        t for t in weight
        if t != term and f" {term} " in f" {t} " and weight[t] >= weight[term] / 2
    ]  # fmt: skip
    return max(longer, key=lambda t: (t.count(" "), weight[t])) if longer else term
