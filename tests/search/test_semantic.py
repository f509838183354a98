import datetime as dt

import numpy as np
import pytest
from django.core.cache import cache

from dailypapers.papers.services import vote_cast
from dailypapers.search import (
    paper_feedback,
    recommend_for,
    related_papers,
    search_papers,
    selectors,
)
from dailypapers.search.embedders import EmbedderUnavailable


def about_pruning(paper):
    text = f"{paper.title} {paper.abstract}".lower()
    return any(word in text for word in ("prun", "sparsi", "compress"))


def test_it_falls_back_to_keywords_when_the_embedder_fails(load_real_papers, monkeypatch):
    load_real_papers()

    def broken():
        raise EmbedderUnavailable("model files missing")

    monkeypatch.setattr(selectors, "get_embedder", broken)
    results = search_papers("structured pruning of large language models")
    assert results.mode == "keyword"
    assert results.notice == selectors.SEMANTIC_OFF
    assert "prun" in results.papers[0].title.lower()


def test_it_finds_papers_by_meaning(load_real_papers):
    load_real_papers()
    query = "sparsifying LLM weights"  # few papers use these words; many mean them
    semantic = search_papers(query, limit=10, mode="semantic")
    assert semantic.mode == "hybrid"
    assert sum(about_pruning(p) for p in semantic.papers) >= 3
    assert search_papers(query, limit=10).mode == "hybrid"


def test_it_lists_related_papers(load_real_papers):
    papers = load_real_papers()
    anchor = next(p for p in papers if p.arxiv_id == "2505.23807")  # layerwise pruning of LLMs
    related = related_papers(anchor, limit=5)
    assert anchor not in related and len(related) == 5
    assert sum(about_pruning(p) for p in related) >= 3
    since = dt.datetime(2025, 5, 20, tzinfo=dt.UTC)
    assert all(p.published_at >= since for p in related_papers(anchor, limit=5, since=since))


def test_it_recommends_from_upvotes_and_explains_why(load_real_papers, alice):
    papers = load_real_papers()
    pruning = [p for p in papers if "prun" in p.title.lower()]
    for paper in pruning[:4]:
        vote_cast(user=alice, paper=paper)
    paper_feedback(user=alice, paper=pruning[4], kind="not_interested")
    picks = recommend_for(alice, limit=10)
    assert len(picks) == 10
    chosen = {r.paper.pk for r in picks}
    assert not chosen & {p.pk for p in pruning[:5]}
    assert all(r.reason.startswith(("Because you upvoted “", "By ", "On “")) for r in picks)
    assert sum(about_pruning(r.paper) for r in picks) >= 5


def test_it_starts_cold_from_followed_topics(load_real_papers, alice, bob):
    load_real_papers()
    picks = recommend_for(alice, limit=5, topics=["speculative decoding"])
    assert len(picks) == 5
    assert "specul" in picks[0].paper.title.lower()
    assert picks[0].reason == "Matches your topic “speculative decoding”"
    assert recommend_for(bob, limit=5, topics=[]) == []


def test_it_keeps_a_standout_keyword_hit_first_when_fusing():
    from dailypapers.search import fusion

    keyword_hits = [(1, 30.0)] + [(pk, 5.0 - pk * 0.01) for pk in range(2, 40)]
    assert fusion.topic_likeness(keyword_hits) == 0.0  # a known item: keywords decide
    fused = fusion.fuse(keyword_hits, {99: 0.9, 2: 0.8, 1: 0.2}, weight=fusion.WEIGHT * 0.2)
    assert fused[0][0] == 1


def test_it_lets_meaning_reorder_flat_keyword_scores_and_bring_in_neighbours():
    from dailypapers.search import fusion

    keyword_hits = [(pk, 10.0 - pk * 0.01) for pk in range(1, 40)]
    weight = fusion.WEIGHT * fusion.topic_likeness(keyword_hits)
    assert weight > 1.0
    similarities = {pk: 0.1 for pk in range(1, 40)} | {17: 0.9, 99: 0.95}
    fused = [pk for pk, _ in fusion.fuse(keyword_hits, similarities, weight=weight)]
    kept = list(range(1, fusion.KEEP + 1))  # the best keyword matches keep their places
    assert fused[: fusion.KEEP + 2] == [*kept, 99, 17]  # 99 shares the meaning but none
    # of the words; 17 is a weak keyword match about the same thing


def test_titles_that_name_the_topic_stay_ahead_of_papers_brought_by_meaning():
    from dailypapers.search import fusion

    keyword_hits = [(pk, 10.0 - pk * 0.01) for pk in range(1, 40)]
    similarities = {pk: 0.1 for pk in range(1, 40)} | {17: 0.9, 99: 0.95, 30: 0.5}
    titled = {8, 30}  # their titles hold the query's words (keyword.TitleCoverage)
    fused = fusion.fuse(keyword_hits, similarities, weight=fusion.WEIGHT, titled=titled)
    order = [pk for pk, _ in fused]
    assert order[fusion.KEEP : fusion.KEEP + 4] == [30, 8, 99, 17]  # meaning orders each tier


def test_it_leans_the_feedback_vector_on_a_standout_top_hit():
    from dailypapers.search import fusion

    vectors = {1: np.array([1.0, 0.0]), 2: np.array([0.0, 1.0]), 3: np.array([0.0, 1.0])}
    standout = fusion.feedback_vector([(1, 10.0), (2, 6.0), (3, 6.0)], vectors)
    flat = fusion.feedback_vector([(1, 10.0), (2, 9.9), (3, 9.9)], vectors)
    assert standout[0] > 0.99
    assert flat[1] > flat[0]


def test_it_counts_only_the_papers_meaning_ranked_among_the_matches():
    # keyword matches 1, 2, 3; meaning put 8 and 9 among them and 7 after them all
    assert selectors._added_by_meaning([1, 8, 2, 9, 3, 7], {1, 2, 3}) == 2
    assert selectors._added_by_meaning([5, 6], set()) == 2  # no keyword match at all
    assert selectors._added_by_meaning([5, 6], {1}) == 2  # mode="semantic"


def _queried_by_the_whole_paper(papers):
    """The keyword engine's ten papers closest to a paper on layerwise pruning of LLMs, by
    its whole text: most of the first five are about pruning too."""
    anchor = next(p for p in papers if p.arxiv_id == "2505.23807")
    by_text = selectors.related.by_keywords(anchor, 10)
    assert anchor.pk not in by_text and len(by_text) == 10
    by_pk = {p.pk: p for p in papers}
    assert sum(about_pruning(by_pk[pk]) for pk in by_text[:5]) >= 3
    return anchor, by_text


def test_the_papers_that_hold_the_words_are_counted_apart_from_those_meaning_adds(
    load_real_papers, client
):
    """On 224 papers, "test time training" counted every paper: the hybrid added each one
    close in meaning to the matches. `matched` counts the papers with every word only, and
    the page gives that figure and says what else follows."""
    load_real_papers()
    words = search_papers("test time training", mode="keyword")
    hybrid = search_papers("test time training")
    assert hybrid.mode == "hybrid" and hybrid.more_by_meaning
    assert hybrid.matches == hybrid.matched == words.matches < words.total < hybrid.total
    assert hybrid.by_meaning == hybrid.total - words.total
    assert not words.more_by_meaning and words.partly
    page = client.get("/search", {"q": "test time training"}).content.decode()
    assert (
        f"{words.matches} papers match every word of “test time training”"
        " · others match some of the words · more close in meaning"
    ) in page
    assert f"{hybrid.total} papers" not in page and f"{words.total} papers" not in page


def test_related_papers_query_by_the_whole_paper_and_say_why(
    tantivy_engine, load_real_papers, monkeypatch
):
    anchor, by_text = _queried_by_the_whole_paper(load_real_papers())
    fused = related_papers(anchor, limit=5)
    starts = ("Shares “", "Also by ", "Also in ", "Similar in content")
    assert all(p.related_reason.startswith(starts) for p in fused)
    assert any("hares “" in p.related_reason for p in fused)

    def broken():
        raise EmbedderUnavailable("model files missing")

    monkeypatch.setattr(selectors, "get_embedder", broken)  # keywords alone still answer
    cache.clear()  # the ranking above is cached
    scored = selectors.related.scored_by_keywords(anchor, selectors.related.POOL_BY_TEXT)
    pool = [pk for pk, _ in scored]
    expected = selectors.related.by_phrases(anchor, pool, keyword_scores=dict(scored))[:5]
    assert [p.pk for p in related_papers(anchor, limit=5)] == expected


def test_related_papers_query_by_the_whole_paper_on_the_default_engine(load_real_papers):
    # On PostgreSQL, its full-text index (related.by_postgres_text); elsewhere, tantivy.
    anchor, by_text = _queried_by_the_whole_paper(load_real_papers())
    assert selectors.related.by_keywords(anchor, 3) == by_text[:3]
    scored = selectors.related.scored_by_keywords(anchor, 10)
    assert [pk for pk, _ in scored] == by_text  # with their scores, best first
    scores = [score for _, score in scored]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_the_phrase_stage_ranks_shared_phrases_first_and_names_them(paper):
    def by(name):
        return [{"name": name}]

    anchor = paper(
        title="Low-rank adaptation for speech models",
        abstract="We apply low-rank adaptation to speech recognition models.",
        authors=by("Ada Lovelace"),
    )
    same_words = paper(
        title="Speech adaptation at low cost",
        abstract="Rank the speech models by adaptation cost, low to high.",
        authors=by("Alan Turing"),
    )
    same_phrase = paper(
        title="Low-rank adaptation of vision transformers",
        abstract="Low-rank adaptation fine-tunes vision transformers cheaply.",
        authors=by("Grace Hopper"),
    )
    unrelated = paper(
        title="Graph colouring heuristics",
        abstract="Colouring sparse graphs.",
        authors=by("Edsger Dijkstra"),
    )
    ranked = selectors.related.by_phrases(anchor, [unrelated.pk, same_words.pk, same_phrase.pk])
    assert ranked == [same_phrase.pk, same_words.pk, unrelated.pk]
    reason = selectors.related.reason(anchor, same_phrase)
    assert reason.startswith("Shares “Low-rank adaptation”")
    assert "“low”" not in reason and "“rank”" not in reason  # words of a phrase shown once
    assert selectors.related.reason(anchor, unrelated) == "Similar in content"


def test_the_phrase_stage_weighs_in_meaning_when_asked(paper, monkeypatch):
    anchor = paper(title="Protein folding with diffusion", abstract="Diffusion folds proteins.")
    twins = [
        paper(title=f"Protein structure study {i}", abstract="Protein structures studied.")
        for i in range(2)
    ]  # the same words: the phrases alone tie them, and ties keep the given order
    pks = [twins[0].pk, twins[1].pk]
    meaning = {twins[0].pk: 0.2, twins[1].pk: 0.9}
    monkeypatch.setattr(selectors.related, "MEANING_WEIGHT", 0.0)
    assert selectors.related.by_phrases(anchor, pks, meaning) == pks
    monkeypatch.setattr(selectors.related, "MEANING_WEIGHT", 0.1)
    assert selectors.related.by_phrases(anchor, pks, meaning) == pks[::-1]
    assert selectors.related.by_phrases(anchor, pks, {}) == pks  # no vectors: phrases alone


def test_the_phrase_stage_keeps_the_keyword_score_beside_the_phrases(paper, monkeypatch):
    anchor = paper(title="Protein folding with diffusion", abstract="Diffusion folds proteins.")
    twins = [
        paper(title=f"Protein structure study {i}", abstract="Protein structures studied.")
        for i in range(3)
    ]  # the phrases alone tie them
    pks = [twin.pk for twin in twins]
    scores = {pks[0]: 2.0, pks[1]: 9.0}  # pks[2] is a vector neighbour: the lowest score
    monkeypatch.setattr(selectors.related, "MEANING_WEIGHT", 0.0)
    assert selectors.related.by_phrases(anchor, pks, keyword_scores=scores) == [
        pks[1], pks[0], pks[2]
    ]  # fmt: skip
    monkeypatch.setattr(selectors.related, "MEANING_WEIGHT", 0.1)
    meaning = {pks[0]: 0.1, pks[1]: 0.1, pks[2]: 0.9}  # meaning alone would put pks[2] first
    assert selectors.related.by_phrases(anchor, pks, meaning, scores)[0] == pks[1]
    monkeypatch.setattr(selectors.related, "KEYWORD_SCORE_WEIGHT", 0.0)
    assert selectors.related.by_phrases(anchor, pks, meaning, scores)[0] == pks[2]


def test_fusion_rewards_papers_both_engines_rank():
    assert selectors.related.fuse([1, 2, 3], [3, 4, 1])[:2] == [1, 3]
    assert selectors.related.fuse([5, 6], [6, 7]) == [6, 5, 7]  # both engines beat one
    assert selectors.related.fuse([], [7, 8]) == [7, 8]


def test_related_rankings_are_cached_but_hidden_papers_never_show(load_real_papers, monkeypatch):
    papers = load_real_papers()
    anchor = next(p for p in papers if p.arxiv_id == "2505.23807")
    first = related_papers(anchor, limit=5)
    calls = []
    monkeypatch.setattr(selectors, "_related_ranking", lambda *a: calls.append(a) or [])
    assert [p.pk for p in related_papers(anchor, limit=5)] == [p.pk for p in first]
    assert calls == []  # answered from the cache, reasons included
    assert related_papers(anchor, limit=5)[0].related_reason == first[0].related_reason
    type(anchor).objects.filter(pk=first[0].pk).update(hidden=True)
    assert first[0].pk not in [p.pk for p in related_papers(anchor, limit=5)]


def test_the_member_model_ranks_by_what_they_liked_and_names_it(paper):
    liked = [
        paper(title=f"Low-rank adaptation for task {n}", abstract=f"Low-rank adaptation of {w}.")
        for n, w in enumerate(("speech models", "vision transformers", "code models"))
    ]
    for n in range(12):
        paper(title=f"Graph colouring, part {n}", abstract="Colouring sparse graphs greedily.")
    match = paper(title="Low-rank adaptation, revisited", abstract="Low-rank adaptation again.")
    other = paper(title="Graph colouring at scale", abstract="Colouring graphs in parallel.")
    model = selectors.recommend.MemberModel([p.pk for p in liked])
    assert [pk for pk, *_ in model.rank([other.pk, match.pk])] == [match.pk, other.pk]
    assert model.phrases("Low-rank adaptation again.") == ["low rank adaptation"]


def test_a_title_that_names_the_topic_holds_more_of_the_query(tantivy_engine, load_real_papers):
    from dailypapers.search import acronyms, keyword
    from dailypapers.search.query import parse

    papers = load_real_papers()
    acronyms.refresh()  # as a reindex does: "LMs" is searched as "language models" too
    query = acronyms.expand(parse("making diffusion LMs decode faster"))
    dimple, video = (
        next(p for p in papers if p.title.startswith(start)) for start in ("Dimple", "Faster Video")
    )
    shares = keyword.get_index().title_shares(query, [dimple.pk, video.pk])
    # Diffusion, language model, decoding against diffusion, faster: the rarest word of the
    # query ("faster") is its aspect, not its topic.
    assert 0 < shares[video.pk] < shares[dimple.pk] < 1


def test_a_title_naming_the_topic_lifts_a_paper_among_flat_keyword_scores():
    from dailypapers.search import fusion

    keyword_hits = [(pk, 10.0 - pk * 0.01) for pk in range(1, 40)]
    weight = fusion.WEIGHT * fusion.topic_likeness(keyword_hits)
    similarities = {pk: 0.5 for pk in range(1, 40)}
    plain = [pk for pk, _ in fusion.fuse(keyword_hits, similarities, weight=weight)]
    assert plain[: fusion.KEEP] == [1, 2, 3, 4, 5]
    # 30's title holds every word of the query, 31's some; the kept five some too
    shares = {30: 1.0, 31: 0.4, 2: 1.0} | {pk: 0.2 for pk in (1, 3, 4, 5)}
    fused = fusion.fuse(keyword_hits, similarities, weight=weight, title_shares=shares)
    assert [pk for pk, _ in fused][: fusion.KEEP + 2] == [1, 2, 3, 4, 5, 30, 31]
    known_item = [(1, 30.0)] + keyword_hits[1:]  # a standout hit: no topic, no lift
    assert fusion.fuse(known_item, similarities, weight=0.0, title_shares=shares) == known_item


def test_a_top_keyword_match_far_from_the_topic_and_not_named_by_its_title_goes_last():
    """ "making diffusion LMs decode faster" kept a video-generation paper third on the demo:
    among flat scores its abstract held the words, its title none of them."""
    from dailypapers.search import fusion

    keyword_hits = [(pk, 10.0 - pk * 0.01) for pk in range(1, 40)]
    weight = fusion.WEIGHT * fusion.topic_likeness(keyword_hits)
    similarities = {pk: 0.5 for pk in range(1, 40)} | {3: 0.1}  # 3 is far from the topic
    shares = {pk: 0.5 for pk in (1, 2, 4, 5, 6, 7)}  # 3's title holds none of the words
    order = [pk for pk, _ in fusion.fuse(keyword_hits, similarities, weight=weight,
                                          title_shares=shares)]  # fmt: skip
    assert order[:5] == [1, 2, 4, 5, 3]  # last of the five; the others keep their order
    # No title shares (PostgreSQL's engine): the five keep their places as before.
    plain = [pk for pk, _ in fusion.fuse(keyword_hits, similarities, weight=weight)]
    assert plain[:5] == [1, 2, 3, 4, 5]


def test_the_gate_reads_the_words_matches_without_the_proximity_bonus():
    """A pair held side by side lifts a few papers of a topic: the list is as flat as ever."""
    from dailypapers.search import fusion
    from dailypapers.search.keyword import Hit

    flat = [Hit(pk=pk, score=10.0 - pk * 0.01) for pk in range(1, 40)]
    lifted = [Hit(pk=1, score=19.99, proximity=10.0), *flat[1:]]
    assert fusion.topic_likeness([(h.pk, h.score) for h in lifted]) == 0.0
    assert fusion.word_scores(lifted)[0] == (1, pytest.approx(9.99))
    assert fusion.topic_likeness(fusion.word_scores(lifted)) > 0.9


def test_a_topic_alert_wants_every_word_of_the_topic(load_real_papers):
    load_real_papers()
    every = search_papers("mixture of experts", limit=50, every_word=True)
    assert every.papers and every.total == len(every.papers)
    for paper in every.papers:
        text = f"{paper.title} {paper.abstract}".lower()
        assert "mixture" in text and "expert" in text
    # the search page lists more: papers that hold one of the words, or share the meaning
    found = search_papers("mixture of experts", limit=10).papers
    assert [p for p in found if p not in every.papers]


def test_an_acronym_or_a_quoted_phrase_counts_as_the_words_it_stands_for():
    from types import SimpleNamespace

    from dailypapers.search.query import Clause, ParsedQuery, parse

    def paper(text):
        return SimpleNamespace(title=text, abstract="", authors=[{"name": "Ada Lovelace"}])

    moe = ParsedQuery(
        text="mixture of experts",
        should=[Clause("mixture"), Clause("of"), Clause("experts"), Clause("moe", expansion=True)],
        short_form="moe",
    )
    holds = selectors.holds_every_word
    assert holds(moe, paper("Sparse Mixtures of Expert layers"))  # stems, stop words aside
    assert holds(moe, paper("Routing tokens in MoE transformers"))
    assert not holds(moe, paper("A mixture of transformers for video, by non-specialists"))
    two_sentences = SimpleNamespace(
        title="Directing videos",
        abstract="We use a Mixture-of-Transformers. It helps non-experts. Mixture of experts.",
        authors=[],
    )
    assert holds(moe, two_sentences)
    two_sentences.abstract = two_sentences.abstract.removesuffix(" Mixture of experts.")
    assert not holds(moe, two_sentences)  # the words in two sentences
    llm = ParsedQuery(
        text="LLM pruning",
        should=[
            Clause("LLM"),
            Clause("pruning"),
            Clause("large language model", expansion=True, of="LLM"),
        ],
    )
    assert holds(llm, paper("Pruning large language models in one shot"))
    assert holds(llm, paper("Pruned LLMs"))
    assert not holds(llm, paper("Pruning vision transformers"))
    assert holds(parse("lovelace pruning"), paper("Pruning"))  # authors count
    assert holds(parse('"world model"'), paper("anything"))  # the engine checks phrases


@pytest.mark.parametrize(
    "prefix, meets",
    [("id:2505.07818", lambda p: p.arxiv_id == "2505.07818"),
     ("cat:cs.CV", lambda p: "cs.CV" in p.categories),
     ("ti:zebrafish", lambda p: "zebrafish" in p.title.lower()),
     ('au:"Nobody Atall"', lambda p: False),
     ("-cat:cs.CL", lambda p: "cs.CL" not in p.categories)],
)  # fmt: skip
def test_meaning_never_adds_papers_that_miss_the_query_prefixes(prefix, meets, load_real_papers):
    """No paper holds the prefix and the words: meaning must not find papers elsewhere."""
    load_real_papers()
    results = search_papers(f"{prefix} pruning LLMs", limit=50)
    assert all(meets(paper) for paper in results.papers)
    assert results.total == len(results.papers)


def test_meaning_widens_a_category_search_within_the_category(load_real_papers):
    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers

    papers = load_real_papers()
    learning = [p.pk for p in papers[::2]]
    Paper.objects.filter(pk__in=learning).update(categories=["cs.LG"], primary_category="cs.LG")
    index_papers(learning, embed=False)
    results = search_papers("cat:cs.CL removing weights from LLMs", limit=50)
    assert results.mode == "hybrid" and results.papers
    assert all(paper.categories == ["cs.CL"] for paper in results.papers)
    assert results.total <= Paper.objects.filter(categories=["cs.CL"]).count()


def test_a_topic_alert_holds_every_word_of_the_topic_but_function_words(db):
    """The bundled sample, followed as "tool use": the search's stop words ("using") are
    glue in a question typed once, but a followed topic is chosen word by word, so its "use"
    is held in the same sentence as its "tool". 2512.23707 ("Training AI Co-Scientists
    Using Rubric Rewards") says "tool" in one sentence only: "AI co-scientists are emerging
    as a tool to assist human researchers"; OmniAgent's "orchestrates specialized tools"."""
    import io

    from django.core.management import call_command

    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers
    from dailypapers.search.query import parse

    call_command("load_sample", stdout=io.StringIO())
    index_papers(list(Paper.objects.values_list("pk", flat=True)))
    sample = {paper.arxiv_id: paper for paper in Paper.objects.all()}
    saying_it = {
        "2512.16918": "AdaTooler-V: Adaptive Tool-Use for Images and Videos",  # the title
        "2512.20856": "enabling reasoning, multi-step tool use, and support",
        "2512.22431": "capable of complex reasoning and tool use",
        "2512.10359": "enhances GPT-4o using lightweight tools",
    }
    for arxiv_id, words in saying_it.items():
        assert words in f"{sample[arxiv_id].title} {sample[arxiv_id].abstract}"
    for topic in ("tool use", "tool-use", "using tools", "Tool Use"):
        parsed = parse(topic)
        for arxiv_id in saying_it:
            assert selectors.holds_every_word(parsed, sample[arxiv_id]), (topic, arxiv_id)
        for arxiv_id in ("2512.23707", "2512.23646"):  # "tool", and no "use" beside it
            assert not selectors.holds_every_word(parsed, sample[arxiv_id]), (topic, arxiv_id)
    # function words still need not be held: "mixture of experts" without the "of"
    parsed = parse("the mixture of experts for a model")
    assert selectors.holds_every_word(parsed, sample["2512.20848"])  # "Mixture-of-Experts"
    # as a digest asks
    alert = search_papers("tool use", limit=50, every_word=True).papers
    found = {paper.arxiv_id for paper in alert}
    assert set(saying_it) <= found
    assert not found & {"2512.23707", "2512.23646"}
