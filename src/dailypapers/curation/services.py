"""Suggestions: which of a day's candidate papers would the community feature?

A model trained on the instance's own daily pages (imported and local entries) scores the
candidates of day D: papers first announced on the last POOL_DAYS announcement days up to D
(their `published_at` date; listings store the listing day there) and not featured before D.
Every feature of a (paper, D) pair is known before D: the tf-idf logistic-regression score
of title + abstract, the authors' featured papers and upvotes on days before D, and the
paper's metadata (code, project page, categories, days since announced). Gradient-boosted
trees (scikit-learn) combine them, as in bench/curation_quality.py, which back-tests the
same recipe on real history (docs/curation.md).
"""

import bisect
import collections
import datetime as dt
import math
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Paper, Vote
from dailypapers.plural import counted

POOL_DAYS = 4
CATEGORIES = ("cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.RO", "cs.IR", "cs.SD", "cs.MA")
CODE = re.compile(r"github\.com|code (is )?(available|released)|huggingface\.co", re.I)
PROJECT = re.compile(r"project page|https?://\S+\.github\.io", re.I)
VENUE = re.compile(r"accepted|neurips|iclr|icml|cvpr|iccv|eccv|acl|emnlp|naacl|aaai", re.I)


class CurationError(Exception):
    """Training or suggesting cannot proceed; the message says why, for a person."""


@dataclass
class Suggestion:
    paper: Paper
    score: float
    reason: str


def model_path():
    return Path(settings.DATA_DIR) / "curation-model.pickle"


def author_names(paper):
    return names_of(paper.authors)


def names_of(authors):
    """Author names as the history matches them: lower case, single spaces."""
    return [" ".join(str(a.get("name", "") if isinstance(a, dict) else a).lower().split())
            for a in authors or []]  # fmt: skip


def announcement_days(day, count=POOL_DAYS):
    """The last `count` days up to `day` on which papers were announced, newest first: one
    index seek on published_at per day found (a date cast per row would scan every paper)."""
    found, end = [], _midnight(day + dt.timedelta(days=1))
    while len(found) < count:
        latest = Paper.objects.filter(published_at__lt=end).order_by("-published_at")
        latest = latest.values_list("published_at", flat=True).first()
        if latest is None:
            break
        found.append(timezone.localdate(latest))
        end = _midnight(found[-1])
    return found


FRESH_DAYS = 7  # arXiv's longest usual break (a holiday week) between announcements


def newest_day():
    """The day the Suggested tab opens on: today while papers are being announced (a paper
    in the last FRESH_DAYS days); otherwise, on a site whose papers stopped (the sample, an
    instance whose ingest stopped), the newest day with papers on the daily pages, as the
    daily page does."""
    from dailypapers.papers.selectors import latest_day_with_papers

    today = timezone.localdate()
    recent = Paper.objects.filter(published_at__gte=_midnight(today - dt.timedelta(FRESH_DAYS)))
    if recent.exists():
        return today
    return min(latest_day_with_papers() or today, today)


def candidates(day):
    """Visible papers announced on the POOL_DAYS announcement days up to `day`, not
    featured on any day before it."""
    days = announcement_days(day)
    if not days:
        return Paper.objects.none()
    featured_before = DailyEntry.objects.filter(day__lt=day).values("paper_id")
    return (
        Paper.objects.visible()
        .filter(withdrawn_at=None)
        .filter(published_at__gte=_midnight(days[-1]))
        .filter(published_at__lt=_midnight(days[0] + dt.timedelta(days=1)))
        .exclude(pk__in=featured_before)
    )


def _midnight(day):
    """The start of `day` in the site's time zone (the zone in which dates are told)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class History:
    """Authors' featured papers and their upvotes, as known before a given day.

    Local votes count from the day they were cast; imported upvote counts carry no date, so
    an imported pick weighs what its source reports now (docs/curation.md)."""

    def __init__(self, until=None):
        self.by_author = collections.defaultdict(list)  # name -> [(day, paper id)], by day
        self.imported = {}
        entries = DailyEntry.objects.order_by("day", "paper_id")
        if until:
            entries = entries.filter(day__lt=until)
        rows = entries.values_list("day", "paper_id", "paper__authors", "paper__imported_upvotes")
        for day, paper_id, authors, imported in rows:  # tuples: no model per entry
            self.imported[paper_id] = imported
            for name in names_of(authors):
                self.by_author[name].append((day, paper_id))
        self.vote_days = collections.defaultdict(list)  # paper id -> sorted days of its votes
        votes = Vote.objects.filter(paper_id__in=list(self.imported)).order_by("created_at")
        if until:
            votes = votes.filter(created_at__date__lt=until)
        for paper_id, cast in votes.values_list("paper_id", "created_at"):
            self.vote_days[paper_id].append(timezone.localdate(cast))

    def upvotes(self, paper_id, day):
        return self.imported[paper_id] + bisect.bisect_left(self.vote_days[paper_id], day)

    def reception(self, paper, day):
        """(featured papers, log upvotes, best author's count) of the authors before day."""
        counts, upvotes = [], 0
        for name in author_names(paper):
            history = self.by_author.get(name, ())
            end = bisect.bisect_left(history, (day, -1))
            counts.append(end)
            upvotes += sum(self.upvotes(paper_id, day) for _, paper_id in history[:end])
        return sum(counts), math.log1p(upvotes), max(counts, default=0)


def text_of(paper):
    return f"{paper.title}. {paper.abstract}"


def has_code(paper):
    return bool(paper.github_repo or CODE.search(f"{paper.comment} {paper.abstract}"))


def has_project_page(paper):
    return bool(paper.project_page or PROJECT.search(f"{paper.comment} {paper.abstract}"))


def features(paper, day, history, text_score):
    categories = paper.categories or []
    primary = paper.primary_category or (categories[0] if categories else "")
    return [
        text_score,
        *history.reception(paper, day),
        len(paper.authors or []),
        len(categories),
        (day - paper.published_at.date()).days,
        len(paper.abstract),
        has_code(paper),
        has_project_page(paper),
        bool(VENUE.search(paper.comment or "")),
        *(primary == c for c in CATEGORIES),
        *(c in categories for c in CATEGORIES),
    ]


def training_pools(until, progress=None):
    """(day, candidates, featured ids) of every day with entries before `until`."""
    days = DailyEntry.objects.order_by("day").values_list("day", flat=True).distinct()
    if until:
        days = days.filter(day__lt=until)
    for day in days:
        pool = list(candidates(day))
        chosen = set(DailyEntry.objects.filter(day=day).values_list("paper_id", flat=True))
        if progress:
            progress(1)
        if any(p.pk in chosen for p in pool):
            yield day, pool, chosen


def train(until=None, progress=None):
    """Fit the text model and the trees on days before `until`; save them; return a summary.

    One thread: the worker trains beside the web processes, and OpenMP's spinning threads
    on a busy machine made training many times slower, not faster."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _train(until, progress)


def _train(until, progress):
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from dailypapers.caching.generation import bump

    pools = list(training_pools(until, progress))
    papers = {p.pk: p for _, pool, _ in pools for p in pool}
    chosen = {pk for _, pool, picked in pools for pk in picked if pk in papers}
    if len(chosen) < 5 or len(papers) - len(chosen) < 5:
        raise CurationError(
            f"too little history to learn from: {counted(len(chosen), 'featured paper')} "
            f"among {counted(len(papers), 'candidate')} before {until or 'today'} (need 5 of each)"
        )
    ids = sorted(papers)
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=100_000,
                                 ngram_range=(1, 2), stop_words="english")  # fmt: skip
    x = vectorizer.fit_transform(text_of(papers[pk]) for pk in ids)
    y = np.array([pk in chosen for pk in ids])
    text_model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    # Out-of-fold scores for the trees' rows, so that they do not learn an overfit score.
    folds = min(4, len(chosen))
    oof = dict(zip(ids, cross_val_predict(text_model, x, y, cv=folds,
                                           method="decision_function"), strict=True))  # fmt: skip
    text_model.fit(x, y)
    history = History(until)
    rows, labels = [], []
    for day, pool, picked in pools:
        for paper in pool:
            rows.append(features(paper, day, history, oof[paper.pk]))
            labels.append(paper.pk in picked)
    trees = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05,
                                           max_leaf_nodes=31, random_state=0)  # fmt: skip
    trees.fit(np.array(rows, dtype=float), np.array(labels))
    text_scores = sorted(oof[pk] for pk in chosen)
    model = {
        "vectorizer": vectorizer,
        "text_model": text_model,
        "trees": trees,
        "until": until,
        "close_text": text_scores[len(text_scores) // 2],  # a median pick's text score
    }
    path = model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(model))
    bump()  # the Suggested tab shows the new model's ranking
    return {"days": len(pools), "rows": len(rows), "featured": len(chosen), "path": path}


def load_model():
    path = model_path()
    if not path.exists():
        raise CurationError("no suggestion model yet: run `dailypapers feature train`")
    return pickle.loads(path.read_bytes())  # our own file, written by train()


def reason(paper, row, model):
    featured, _, best = row[1:4]
    parts = []
    if best:
        parts.append(f"authors with {featured} featured paper{'s' * (featured != 1)} before")
    if row[0] >= model["close_text"]:
        parts.append("close in subject to past picks")
    if has_code(paper):
        parts.append("code released")
    if has_project_page(paper):
        parts.append("project page")
    return "; ".join(parts) or "ranked by the model over its text and metadata"


def suggest(day, limit=20):
    """The candidates of `day`, best first, as Suggestions (only history before `day`).

    Cached on the model file and the site's generation: a new model, a new paper, entry or
    vote ranks again; a reload of the tab or the API does not."""
    from django.core.cache import cache

    from dailypapers.caching.generation import current

    path = model_path()
    if not path.exists():
        load_model()  # says what to do
    key = f"suggest:{day}:{limit}:{path.stat().st_mtime_ns}:{current()[0]}"
    ranked = cache.get(key)
    if ranked is None:
        ranked = [(s.paper.pk, s.score, s.reason) for s in _suggest(day, limit)]
        cache.set(key, ranked, 3600)
    papers = Paper.objects.in_bulk([pk for pk, _, _ in ranked])
    return [Suggestion(papers[pk], score, why) for pk, score, why in ranked if pk in papers]


def _suggest(day, limit):
    import numpy as np

    model = load_model()
    pool = list(candidates(day))
    if not pool:
        return []
    history = History(day)
    text_scores = model["text_model"].decision_function(
        model["vectorizer"].transform(text_of(p) for p in pool)
    )
    rows = [features(p, day, history, s) for p, s in zip(pool, text_scores, strict=True)]
    scores = model["trees"].predict_proba(np.array(rows, dtype=float))[:, 1]
    order = np.argsort(-scores, kind="stable")[:limit]
    return [Suggestion(pool[n], float(scores[n]), reason(pool[n], rows[n], model)) for n in order]


def parse_day(text):
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CurationError(f"{text!r} is not a date (YYYY-MM-DD)") from None
