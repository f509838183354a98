"""For you: arxiv-sanity-lite's method (a linear SVM per member on tf-idf of the papers they
liked, against random papers) over the candidates our engines find.

arxiv-sanity-lite scores every paper of its corpus with the member's SVM; at a million
papers that is too much per request, so the SVM re-ranks a pool instead: the keyword
query-by-document neighbours of the member's liked papers, fused with the embedding model's
nearest papers (selectors._recommend_by_model). Features are related.py's: hashed 1-3 word
n-grams, sublinear tf x idf from the per-process random sample of the corpus, whose papers
are also the SVM's negatives. Each pick's reason names the liked paper closest to it and the
phrases that weigh most for it in the member's model.

The SVM at C = 0.03 spreads its weight over many n-grams, so a member whose likes nearly all
share one phrase ("reward hacking") still sees papers that only share their vocabulary
ranked first. InterestPhrase finds that phrase and gives its holders a bonus;
InterestCategory does the same for the arXiv category a member's likes are in, when the
site's papers rarely are.
"""

import re
from collections import Counter

import numpy as np
from scipy.sparse import vstack
from sklearn.svm import LinearSVC

from dailypapers.papers.models import Paper

from . import related

SVM_C = 0.03  # bench/recommend_quality.py: with the candidates as negatives, 0.03 over 0.1
MAX_POSITIVES = 300  # the most recent likes train the model (a cost cap)
REASON_PHRASES = 2
# A paper by an author the member keeps liking gets AUTHOR_BONUS x the share of that
# author's papers they liked (AuthorInterest) added to the SVM's score.
AUTHOR_BONUS = 0.5
# A person liked 3 times is followed; twice is often a co-author met among the papers
# liked for their topic (bench/recommend_quality.py: 3 over 2 gained on both member kinds).
AUTHOR_MIN_LIKES = 3
AUTHOR_PRIOR = 2  # papers added to an author's count: 2 of 2 liked is a share of 0.5
AUTHORS_CHECKED = 30  # the most liked authors whose papers are counted (a query each)
AUTHOR_PAPERS = 30  # the newest papers of each followed author join the candidates
# The interest phrase: held by at least INTEREST_MIN_SHARE of the liked papers (and at
# least INTEREST_MIN_LIKES of them), the most over-represented there against the random
# sample (InterestPhrase). A paper holding it gets INTEREST_BONUS x the share of likes
# holding it, in units of the spread (standard deviation) of the SVM's scores over the
# pool; a paper by a followed author gets the whole bonus (bench/recommend_quality.py:
# without it, the phrase pushed a followed author's papers down and members with a few
# interests lost).
INTEREST_BONUS = 2.0
INTEREST_MIN_SHARE = 0.5
INTEREST_MIN_LIKES = 3
# The arXiv category most likes are in (same share and count as the phrase), when it is at
# least CATEGORY_MIN_LIFT times as common among them as in the random sample: a member who
# likes robotics papers on a site of machine-learning papers, not one whose likes are
# cs.LG like the rest of the site. Its papers get CATEGORY_BONUS x the share of likes in
# it (in the same units as the phrase's bonus), and its CATEGORY_PAPERS newest papers join
# the candidates.
CATEGORY_BONUS = 1.0
CATEGORY_MIN_LIFT = 4.0
CATEGORY_PAPERS = 100


def _papers(pks):
    """(pks found, their "title abstract" texts, their authors' names, their arXiv
    categories), in the order of pks."""
    rows = Paper.objects.filter(pk__in=pks).values_list(
        "pk", "title", "abstract", "authors", "categories", "primary_category"
    )
    found = {
        pk: (
            f"{title} {abstract[: related.ABSTRACT_CHARS]}",
            _names(authors),
            _categories(categories, primary),
        )
        for pk, title, abstract, authors, categories, primary in rows
    }
    pks = [pk for pk in pks if pk in found]
    return pks, *([found[pk][i] for pk in pks] for i in range(3))


def _names(authors):
    """{folded name: the name as written} of a paper's authors."""
    names = {}
    for author in authors or []:
        name = " ".join(str(author.get("name", "")).split()) if isinstance(author, dict) else ""
        if name:
            names.setdefault(name.lower(), name)
    return names


class AuthorInterest:
    """The authors a member keeps liking, and how much: of an author's papers, the share
    the member liked (smoothed by AUTHOR_PRIOR papers), for authors of at least
    AUTHOR_MIN_LIKES liked papers.

    A reader follows people as well as topics, and an author's papers are not all on one
    topic, so words alone miss them. The share, not the count, tells a followed author
    (7 of their 10 papers liked) from a prolific co-author met twice among the papers
    liked for their topic (2 of 40): counts alone pushed such co-authors' other papers up
    and halved precision for members with one topic (bench/recommend_quality.py)."""

    def __init__(self, liked_authors):
        counts = Counter(name for names in liked_authors for name in names)
        shown = {}
        for names in liked_authors:
            for name, written in names.items():
                shown.setdefault(name, written)
        repeated = [
            name for name, n in counts.most_common(AUTHORS_CHECKED) if n >= AUTHOR_MIN_LIKES
        ]
        self.rate, self.papers, self.shown = {}, {}, {}
        for name in repeated:
            total, newest = _papers_by(shown[name])
            total = max(total, counts[name])
            self.rate[name] = counts[name] / (total + AUTHOR_PRIOR)
            self.papers[name] = newest
            self.shown[name] = (shown[name], counts[name], total)

    def candidates(self, count):
        """The newest papers of the `count` authors most liked (by share), best first, once
        each (a paper by two of them would take two of the spare picks)."""
        ranked = sorted(self.rate, key=lambda name: (-self.rate[name], name))[:count]
        return list(dict.fromkeys(pk for name in ranked for pk in self.papers[name]))

    def best(self, names):
        """(bonus, (name as written, papers liked, papers)) for the most liked of `names`;
        (0, None) when the member does not follow any of them."""
        liked = [name for name in names if name in self.rate]
        if not liked:
            return 0.0, None
        name = max(liked, key=lambda n: (self.rate[n], n))
        return self.rate[name], self.shown[name]


def _papers_by(name):
    """(how many visible papers are by `name`, the newest AUTHOR_PAPERS of them).

    Read from the author links ingest writes for every paper (PaperAuthor, indexed by
    author), not through the keyword engine: an author-only query there has no word to
    select papers by, and PostgreSQL's full-text engine answered it by scanning every
    paper's authors (a statement that ran for minutes in CI)."""
    papers = Paper.objects.visible().filter(author_set__name=name)
    newest = papers.order_by("-published_at", "-pk").values_list("pk", flat=True)
    return papers.count(), list(newest[:AUTHOR_PAPERS])


class InterestPhrase:
    """The one phrase (1-3 words) most of the member's likes hold and the corpus rarely
    does: of the phrases held by at least INTEREST_MIN_SHARE of the liked papers, the one
    with the highest share x log(lift), lift = its share among the likes / its share in
    the random sample. `phrase` is None when no phrase is held by enough likes (most
    members of several interests).

    A reader who upvotes papers on "direct preference optimization" wants the next paper
    on it; the SVM, regularised, weighs that phrase no more than the many words those
    papers also use, and ranks papers that merely sound alike level with it."""

    def __init__(self, liked, df, docs, counts=None):
        """`counts`: the liked texts' hashed n-gram counts, when the caller has them (the
        analysis is most of the cost: about 1 ms a paper)."""
        self.phrase, self.share, self.liked, self.bucket = None, 0.0, 0, None
        self.specific = False  # whether the phrase can be named to the member (below)
        self.of = len(liked)  # the liked papers counted (the model's, MAX_POSITIVES at most)
        if counts is None:
            counts = related._vectorizer().transform(liked)
        counts = counts.tocsr()
        counts.sum_duplicates()
        buckets, held = np.unique(counts.indices, return_counts=True)
        enough = held >= max(INTEREST_MIN_LIKES, INTEREST_MIN_SHARE * len(liked))
        buckets, share = buckets[enough], held[enough] / max(len(liked), 1)
        # Its term in the divergence of the likes from the corpus: share x log(lift).
        # Lift alone preferred a rarer phrase held by fewer likes ("reasoning test" in
        # 3 of 5 likes over "test time scaling" in all 5).
        weight = share * np.log(share * (docs + 1) / (df[buckets] + 1))
        while len(buckets) and weight.max() > 0:
            best = weight >= weight.max() - 1e-12
            term = self._named(liked, counts, set(buckets[best].tolist()))
            if term:
                self.phrase, self.bucket = term, _bucket(term)
                self.share = float(share[buckets == self.bucket][0])
                self.liked = round(self.share * len(liked))
                # "model" in all of 3 likes is still an interest to the ranking (the
                # member's likes hold it more than the corpus does), but a reason naming
                # it tells the member nothing: only a phrase few sampled papers hold is
                # named (related.specific; the likes holding it do not count against it).
                self.specific = related.specific(term, df, docs, self.liked + related.REASON_MIN_DF)
                return
            buckets, share, weight = buckets[~best], share[~best], weight[~best]

    @staticmethod
    def _named(liked, counts, buckets):
        """The phrase of `buckets` (equally weighted) that can be an interest, read from
        the first liked text holding one: the longest, then the first in order (of equal
        weight, the phrase says more than its word); None when all are numbers or short."""
        row = next(i for i in range(counts.shape[0]) if buckets & set(counts[i].indices))
        terms = [t for t in _terms(liked[row]) if _bucket(t) in buckets]
        return min(terms, key=lambda t: (-t.count(" "), t), default=None)

    def held(self, counts):
        """For each row of hashed n-gram counts (or their tf-idf), whether it holds the
        phrase (its bucket: a collision is one in a million buckets)."""
        if self.bucket is None:
            return np.zeros(counts.shape[0], dtype=bool)
        return counts[:, self.bucket].toarray().ravel() > 0


class InterestCategory:
    """The arXiv category most of the member's likes are in and the site's papers rarely
    are (CATEGORY_MIN_LIFT): of the categories held by at least INTEREST_MIN_SHARE of the
    liked papers, the one with the highest share x log(lift), as InterestPhrase. `name` is
    None when there is none (a member whose likes are in the site's usual categories).

    A reader who upvotes papers on robot learning, on a site of language-model papers,
    wants the next robotics paper whatever words it uses; their likes share a category
    more surely than any phrase."""

    def __init__(self, liked_categories, sample_categories):
        self.name, self.share, self.liked, self.of = None, 0.0, 0, len(liked_categories)
        held = Counter(c for categories in liked_categories for c in categories)
        in_sample = Counter(c for categories in sample_categories for c in categories)
        docs = max(len(sample_categories), 1)
        best = 0.0
        for category, count in sorted(held.items()):
            share = count / max(self.of, 1)
            lift = share * (docs + 1) / (in_sample[category] + 1)
            enough = count >= max(INTEREST_MIN_LIKES, INTEREST_MIN_SHARE * self.of)
            if enough and lift >= CATEGORY_MIN_LIFT and share * np.log(lift) > best:
                best = share * np.log(lift)
                self.name, self.share, self.liked = category, share, count

    def candidates(self, count):
        """The category's newest visible papers (its primary papers: an indexed query)."""
        if self.name is None:
            return []
        papers = Paper.objects.visible().filter(primary_category=self.name)
        return list(papers.order_by("-published_at", "-pk").values_list("pk", flat=True)[:count])


def _sample_categories(pks):
    rows = Paper.objects.filter(pk__in=pks).values_list("categories", "primary_category")
    return [_categories(categories, primary) for categories, primary in rows]


def _categories(categories, primary):
    """A paper's arXiv categories as a set, its primary one included."""
    return {*(categories or []), primary} - {""}


def _terms(text):
    """The words and phrases of `text` that can be an interest (as related.py's reasons)."""
    return {t for t in related._analyzer()(text) if len(t) > 2 and not t.isdigit()}


SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s*)$")


def written_in_running_text(term, abstracts):
    """`term` as most of `abstracts` write it in the middle of a sentence, where its case
    is its own ("robot", "VLA", "Mixture-of-Experts"), not a title's or a sentence's first
    word's: each abstract votes for its most frequent spelling, the first of equal votes
    wins. With none there, what a title or a sentence start writes, each word lowered
    unless it is an acronym or a name's inner capitals ("Robot" -> "robot", "VLA", "LoRA");
    the analyzer's own lower-case term when no text holds it."""
    pattern = related._written_pattern(term)
    votes, capitalised = Counter(), None
    for abstract in abstracts:
        spellings = Counter()
        for found in pattern.finditer(abstract or ""):
            spelling = " ".join(found.group().split())
            if SENTENCE_START.search(abstract[: found.start()]):
                capitalised = capitalised or spelling
            else:
                spellings[spelling] += 1
        if spellings:
            votes[spellings.most_common(1)[0][0]] += 1
    if votes:
        return votes.most_common(1)[0][0]
    if capitalised is None:
        return term
    return re.sub(r"\b[A-Z][a-z]+\b", lambda word: word.group().lower(), capitalised)


def _bucket(term):
    from sklearn.utils import murmurhash3_32

    return abs(murmurhash3_32(term, seed=0)) % related.HASH_BUCKETS


class MemberModel:
    """The member's linear SVM over tf-idf n-grams, plus the authors they keep liking;
    raises ValueError when it cannot be trained.

    Negatives: the papers the member marked "not interested", the random sample, and
    `candidates` (the pool it will rank) that the member has not liked. arxiv-sanity-lite
    trains on every paper not liked; the candidates are the near misses among them, the
    papers that share the liked papers' words without being what the member likes, and
    learning them sharpens the top of the ranking (bench/recommend_quality.py)."""

    def __init__(self, positives, negatives=(), candidates=()):
        sample = related.corpus_sample()
        self.vectorizer = related._vectorizer()
        self.idf = related.idf_of(sample["df"], sample["docs"])
        _, liked, liked_authors, liked_categories = _papers(list(positives)[-MAX_POSITIVES:])
        positive_set = set(positives)
        others = [pk for pk in candidates if pk not in positive_set and pk not in negatives]
        _, disliked, _, _ = _papers([*negatives, *others])
        self.authors = AuthorInterest(liked_authors)
        self.category = InterestCategory(liked_categories, _sample_categories(sample["pks"]))
        liked_counts = self.vectorizer.transform(liked)
        self.interest = InterestPhrase(liked, sample["df"], sample["docs"], liked_counts)
        self.df, self.docs = sample["df"], sample["docs"]
        # how many liked papers hold each hashed term (phrases named as reasons)
        held = liked_counts.tocsr()
        held.sum_duplicates()
        self.liked_holding = Counter(held.indices.tolist())
        self.liked_count = len(liked)
        keep = [i for i, pk in enumerate(sample["pks"]) if pk not in positive_set]
        parts = [related.weigh(liked_counts, self.idf)]
        if disliked:
            parts.append(self.features(disliked))
        if keep and sample["counts"] is not None:
            parts.append(related.weigh(sample["counts"][keep], self.idf))
        labels = [1] * len(liked) + [0] * (len(disliked) + len(keep))
        if not liked or len(labels) == len(liked):
            raise ValueError("the model needs liked papers and other papers")
        self.svm = LinearSVC(class_weight="balanced", C=SVM_C, max_iter=10000, random_state=0)
        self.svm.fit(vstack(parts).tocsr(), labels)

    def features(self, texts):
        return related.weigh(self.vectorizer.transform(texts), self.idf)

    def rank(self, pks):
        """[(paper id, text, (author, papers liked, papers) or None, holds the interest
        phrase, is in the interest category)] of pks, best first: the SVM's score plus
        AUTHOR_BONUS x the share of an author's papers liked plus the interest bonuses
        (INTEREST_BONUS, CATEGORY_BONUS)."""
        pks, texts, authors, categories = _papers(pks)
        if not pks:
            return []
        features = self.features(texts)
        svm = self.svm.decision_function(features)
        by = [self.authors.best(names) for names in authors]
        followed = np.array([bonus for bonus, _ in by])
        held = self.interest.held(features)
        in_category = np.array([self.category.name in c for c in categories], dtype=bool)
        scores = svm + AUTHOR_BONUS * followed
        if self.interest.phrase:
            interest = np.where(held, self.interest.share, 0.0)
            interest[followed > 0] = 1.0
            scores += INTEREST_BONUS * svm.std() * interest
        if self.category.name:
            scores += CATEGORY_BONUS * svm.std() * np.where(in_category, self.category.share, 0.0)
        order = np.argsort(-scores, kind="stable")
        named = held & self.interest.specific  # the reason names the phrase (InterestPhrase)
        return [(pks[i], texts[i], by[i][1], bool(named[i]), bool(in_category[i])) for i in order]

    def phrases(self, text):
        """The words and phrases of `text` that count most for this member, strongest first.

        Only terms that can name an interest: held by a liked paper, specific
        (related.specific: few sampled papers hold them, the liked papers holding them
        aside, and no boilerplate word), and recurring: a phrase written twice in `text`
        or held by two likes, a single word both (one like, for a member of one). A term
        a liked paper and the pick use in passing ("obtain", "new control") weighs for the
        model, but is no interest of the member's."""
        coef = self.svm.coef_[0]
        weight = {}
        counts = Counter(self.vectorizer.build_analyzer()(text))
        for term, count in counts.items():
            bucket = _bucket(term)
            holding = self.liked_holding.get(bucket, 0)
            if " " in term:  # a phrase: written twice in the pick, or held by two likes
                if count < 2 and holding < 2:
                    continue
            elif count < 2 or holding < min(2, self.liked_count):  # a word: both
                continue
            floor = holding + related.REASON_MIN_DF
            if holding and related.specific(term, self.df, self.docs, floor):
                weight[term] = coef[bucket] * self.idf[bucket]
        chosen = []
        for term in sorted(weight, key=lambda t: (-weight[t], t)):
            if weight[term] <= 0 or len(chosen) == REASON_PHRASES:
                break
            chosen += related.distinct_terms([_whole_phrase(term, weight)], 1, chosen)
        return chosen


def _whole_phrase(term, weight):
    """The longest phrase holding `term` that weighs at least half as much: a reader knows
    "low rank adaptation" where the model may weigh "adaptation" a little more."""
    longer = [
        t for t in weight
        if t != term and f" {term} " in f" {t} " and weight[t] >= weight[term] / 2
    ]  # fmt: skip
    return max(longer, key=lambda t: (t.count(" "), weight[t])) if longer else term
