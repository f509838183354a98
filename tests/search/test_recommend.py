""" "For you": cached per member, recomputed when their signals or the index change, and
the authors a member keeps liking."""

import re

import numpy as np
import pytest

from dailypapers.papers.models import Author, PaperAuthor
from dailypapers.papers.services import vote_cast
from dailypapers.search import paper_feedback, recommend, recommend_for, selectors
from dailypapers.search.services import moved


@pytest.fixture
def computed(monkeypatch):
    """Counts the model's (costly) runs behind recommend_for."""
    runs = []
    real = selectors._recommend_by_model

    def counted(*args, **kwargs):
        runs.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "_recommend_by_model", counted)
    return runs


@pytest.fixture
def pruning_fan(load_real_papers, alice):
    """alice, who upvoted four papers about pruning; returns the papers."""
    papers = load_real_papers()
    pruning = [p for p in papers if "prun" in p.title.lower()]
    for paper in pruning[:4]:
        vote_cast(user=alice, paper=paper)
    return papers


def test_it_answers_a_second_visit_from_the_cache(pruning_fan, alice, computed):
    first = recommend_for(alice, limit=10)
    second = recommend_for(alice, limit=10)
    assert len(computed) == 1
    assert [(r.paper.pk, r.reason) for r in second] == [(r.paper.pk, r.reason) for r in first]


def test_it_recomputes_when_likes_dislikes_or_the_index_change(pruning_fan, alice, computed):
    picks = recommend_for(alice, limit=10)
    vote_cast(user=alice, paper=picks[0].paper)
    after_vote = recommend_for(alice, limit=10)
    assert len(computed) == 2
    assert picks[0].paper.pk not in {r.paper.pk for r in after_vote}
    paper_feedback(user=alice, paper=after_vote[0].paper, kind="not_interested")
    after_dislike = recommend_for(alice, limit=10)
    assert len(computed) == 3
    assert after_vote[0].paper.pk not in {r.paper.pk for r in after_dislike}
    paper_feedback(user=alice, paper=after_vote[0].paper, kind="saved")  # same row, new kind
    recommend_for(alice, limit=10)
    assert len(computed) == 4
    moved()
    recommend_for(alice, limit=10)
    assert len(computed) == 5


def test_it_never_shows_a_paper_hidden_after_it_was_cached(pruning_fan, alice, computed):
    picks = recommend_for(alice, limit=10)
    picks[0].paper.hidden = True
    picks[0].paper.save(update_fields=["hidden"])
    again = recommend_for(alice, limit=10)
    assert picks[0].paper.pk not in {r.paper.pk for r in again}
    assert len(again) == 10


def test_it_keeps_each_members_picks_apart(pruning_fan, alice, bob, computed):
    recommend_for(alice, limit=10)
    assert recommend_for(bob, limit=10, topics=[]) == []  # bob liked nothing


def link_authors(papers):
    """Author rows and links, as ingest writes them for every paper it stores."""
    names = {author["name"] for paper in papers for author in paper.authors}
    Author.objects.bulk_create([Author(name=name) for name in names], ignore_conflicts=True)
    ids = dict(Author.objects.values_list("name", "pk"))
    PaperAuthor.objects.bulk_create(
        PaperAuthor(paper=paper, author_id=ids[author["name"]], position=position)
        for paper in papers
        for position, author in enumerate(paper.authors)
    )


def test_it_recommends_the_authors_a_member_keeps_liking(load_real_papers, alice):
    papers = load_real_papers()
    link_authors(papers)
    by_author = [p for p in papers if any(a["name"] == "Fei Huang" for a in p.authors)]
    assert len(by_author) == 9
    for paper in by_author[:5]:
        vote_cast(user=alice, paper=paper)
    picks = recommend_for(alice, limit=10)
    theirs = [r for r in picks if any(a["name"] == "Fei Huang" for a in r.paper.authors)]
    assert {r.paper.pk for r in theirs} == {p.pk for p in by_author[5:]}
    assert all(r.reason.startswith("By Fei Huang: you liked 5 of their 9 papers") for r in theirs)


def test_a_prolific_co_author_counts_little_and_one_met_twice_not_at_all(monkeypatch):
    papers = {"Ada": 4, "Bo": 40, "Cy": 1, "Dee": 3}  # each author's papers in the index
    monkeypatch.setattr(recommend, "_papers_by", lambda name: (papers[name], [name]))
    ada_bo = {"ada": "Ada", "bo": "Bo"}
    interest = recommend.AuthorInterest(
        [ada_bo, ada_bo, {**ada_bo, "dee": "Dee"}, {"dee": "Dee", "cy": "Cy"}]
    )
    assert interest.candidates(5) == ["Ada", "Bo"]  # Dee: 2 liked papers, Cy: 1
    bonus, why = interest.best({"bo": "Bo", "ada": "Ada"})
    assert (bonus, why) == (pytest.approx(3 / 6), ("Ada", 3, 4))  # 3 of 4 liked, +2 prior
    assert interest.best({"bo": "Bo"})[0] == pytest.approx(3 / 42)
    assert interest.best({"dee": "Dee"}) == (0.0, None)
    assert interest.best({"cy": "Cy"}) == (0.0, None)


def test_it_counts_an_authors_visible_papers_from_their_author_links(
    load_real_papers, django_assert_max_num_queries
):
    papers = load_real_papers(index=False)  # no keyword index needed: the links answer
    link_authors(papers)
    theirs = sorted(
        (p for p in papers if any(a["name"] == "Fei Huang" for a in p.authors)),
        key=lambda p: (p.published_at, p.pk),
    )
    theirs[-1].hidden = True
    theirs[-1].save(update_fields=["hidden"])
    with django_assert_max_num_queries(2):
        total, newest = recommend._papers_by("Fei Huang")
    assert total == 8
    assert newest == [p.pk for p in reversed(theirs[:-1])]


def test_a_seeded_sample_gives_the_same_picks_in_a_fresh_process(pruning_fan, alice, monkeypatch):
    """bench/recommend_quality.py seeds the random sample so two runs give one figure: a
    new draw (as in a new process) with the same seed must not change the picks."""
    from django.core.cache import cache

    from dailypapers.search import related

    monkeypatch.setattr(related, "SAMPLE_SEED", 3)
    monkeypatch.setattr(related, "DF_SAMPLE", 30)  # fewer than the papers: a real draw
    runs = []
    for _ in range(2):
        related.forget_frequencies()
        cache.clear()
        sample = related.corpus_sample()["pks"]
        runs.append((sample, [r.paper.pk for r in recommend_for(alice, limit=10)]))
    related.forget_frequencies()
    assert runs[0][0] and len(runs[0][1]) == 10
    assert runs[0] == runs[1]


def test_it_finds_the_phrase_most_likes_hold_and_the_corpus_rarely_does():
    from dailypapers.search import related

    df = np.zeros(related.HASH_BUCKETS, dtype=np.int32)
    df[recommend._bucket("models")] = 900  # of 1,000 sampled papers
    df[recommend._bucket("reward")] = 60
    liked = [
        "Reward hacking in language models",
        "Detecting reward hacking of judges with models",
        "Mitigating reward hacking for models",
        "Sparse models everywhere",
    ]
    interest = recommend.InterestPhrase(liked, df, 1000)
    assert (interest.phrase, interest.liked, interest.of) == ("reward hacking", 3, 4)
    assert interest.share == pytest.approx(0.75)
    texts = ["A study of reward hacking", "Reward models", "Hacking reward"]
    counts = related._vectorizer().transform(texts)
    assert interest.held(counts).tolist() == [True, False, False]


def test_no_phrase_is_an_interest_when_few_likes_hold_it():
    from dailypapers.search import related

    df = np.zeros(related.HASH_BUCKETS, dtype=np.int32)
    hacking = ["Reward hacking in judges", "Reward hacking in agents"]
    assert recommend.InterestPhrase(hacking, df, 1000).phrase is None  # 2 likes: too few
    split = hacking + ["Pruning nets", "Pruning layers", "Sparse attention", "Dense retrieval"]
    assert recommend.InterestPhrase(split, df, 1000).phrase is None  # a third hold each
    assert recommend.InterestPhrase(hacking * 2, df, 1000).phrase == "reward hacking"


def test_it_ranks_the_papers_on_the_members_interest_first_and_says_so(load_real_papers, alice):
    papers = load_real_papers()
    on_it = {  # as the model reads a paper: its title and the start of its abstract
        p.pk for p in papers if "test-time scaling" in f"{p.title} {p.abstract[:1500]}".lower()
    }
    for pk in sorted(on_it)[:5]:
        vote_cast(user=alice, paper=next(p for p in papers if p.pk == pk))
    picks = recommend_for(alice, limit=10)
    said = re.compile(r"On “test-time scaling”, like 5 of the 5 papers you liked", re.I)
    assert [r.paper.pk in on_it for r in picks[:4]] == [True] * 4
    for pick in picks:
        if pick.paper.pk in on_it:  # as the pick writes it; once, not again among its phrases
            assert said.match(pick.reason), pick.reason
            assert pick.reason.lower().count("test-time scaling") == 1, pick.reason


def test_the_category_most_likes_are_in_and_the_site_rarely_is_an_interest():
    site = [{"cs.CL"}] * 90 + [{"cs.CV", "cs.RO"}] * 5 + [{"cs.LG"}] * 5
    robots = [{"cs.RO", "cs.CV"}, {"cs.RO"}, {"cs.RO", "cs.LG"}, {"cs.CL"}]
    interest = recommend.InterestCategory(robots, site)
    assert (interest.name, interest.liked, interest.of) == ("cs.RO", 3, 4)
    # cs.CL holds most likes, but as many of the site's papers: no interest
    assert recommend.InterestCategory([{"cs.CL"}] * 5, site).name is None
    assert recommend.InterestCategory(robots[:2], site).name is None  # 2 likes: too few
    split = [{"cs.RO"}, {"cs.RO"}, {"cs.RO"}, {"cs.LG"}, {"cs.LG"}, {"cs.SD"}, {"cs.SD"}]
    assert recommend.InterestCategory(split, site).name is None  # under half the likes


def test_it_recommends_papers_of_the_category_a_member_keeps_liking(
    load_real_papers, alice, monkeypatch
):
    from django.core.cache import cache

    from dailypapers.papers.models import Paper
    from dailypapers.search import related

    monkeypatch.setattr(related, "SAMPLE_SEED", 3)
    related.forget_frequencies()
    papers = load_real_papers()
    # Every ninth paper is filed under a category of its own, whatever its topic: only the
    # category ties them together.
    rare = papers[::9]
    in_category = {p.pk for p in rare}
    Paper.objects.filter(pk__in=in_category).update(
        categories=["q-bio.NC", "cs.CL"], primary_category="q-bio.NC"
    )
    for paper in rare[:6]:
        vote_cast(user=alice, paper=paper)
    picks = recommend_for(alice, limit=10)
    in_it = [pick for pick in picks if pick.paper.pk in in_category]
    assert in_it[0].reason.startswith("In q-bio.NC, like 6 of the 6 papers you liked")
    monkeypatch.setattr(recommend, "CATEGORY_BONUS", 0.0)
    cache.clear()
    without = [pick for pick in recommend_for(alice, limit=10) if pick.paper.pk in in_category]
    related.forget_frequencies()
    assert len(in_it) > len(without) + 1


def test_it_writes_the_interest_as_liked_papers_write_it_in_running_text():
    abstracts = [
        "Robot learning needs data. We let a robot collect it with a VLA policy.",
        "We train robot policies. Robot arms differ.",
        "A VLA model for every robot.",
    ]
    assert recommend.written_in_running_text("robot", abstracts) == "robot"
    assert recommend.written_in_running_text("vla", abstracts) == "VLA"
    # only at the start of sentences: the capital is the sentence's, not the word's
    assert recommend.written_in_running_text("robot arms", abstracts) == "robot arms"
    assert recommend.written_in_running_text("lora", ["LoRA adapters. Fine."]) == "LoRA"
    assert recommend.written_in_running_text("warp drive", abstracts) == "warp drive"


def test_it_names_the_interest_the_same_way_beside_every_pick(load_real_papers, alice, make_paper):
    from dailypapers.search import index_papers

    papers = load_real_papers()
    robots = [p for p in papers if "robot" in f"{p.title} {p.abstract[:1500]}".lower()]
    for paper in robots[:7]:
        vote_cast(user=alice, paper=paper)
    capitalised = make_paper(  # a pick whose title writes the interest with a capital
        title="Robotic Manipulation Policies from Human Videos",
        abstract="Robotic manipulation policies learn from robotic demonstrations. We use "
        "human videos for robotic grasping and robotic control of arms.",
    )
    index_papers([capitalised.pk])
    picks = recommend_for(alice, limit=20)
    assert capitalised.pk in {pick.paper.pk for pick in picks}
    named = {pick.reason.split("”")[0] + "”" for pick in picks if pick.reason.startswith("On “")}
    [reason] = named  # one spelling beside every pick, whatever the pick's title says
    phrase = reason.removeprefix("On “").removesuffix("”")
    assert phrase == phrase.lower(), reason  # a common word: as running text writes it


def test_it_says_which_follow_found_a_pick_before_any_likes(load_real_papers, alice):
    from dailypapers.digests import services as digests

    load_real_papers()
    digests.follow_add(user=alice, kind="category", value="cs.CL")
    digests.follow_add(user=alice, kind="topic", value="speculative decoding")
    reasons = {pick.reason for pick in recommend_for(alice, limit=6)}
    assert reasons == {
        "In cs.CL, a category you follow",
        "Matches your topic “speculative decoding”",
    }


def test_a_followed_topic_keeps_a_share_of_the_picks_once_the_member_likes_papers(
    pruning_fan, alice
):
    # Following says "it feeds For you"; once a member upvoted a few papers, the model
    # filled every slot and the followed topic vanished from the page.
    from dailypapers.digests.services import follow_add

    follow_add(user=alice, kind="topic", value="video generation")
    picks = recommend_for(alice, limit=12)
    assert len(picks) == 12
    followed = [r for r in picks if r.reason == "Matches your topic “video generation”"]
    assert len(followed) == 3
    for pick in followed:  # each holds the topic's words: the reason is true of it
        text = (pick.paper.title + " " + pick.paper.abstract).lower()
        assert "video" in text and "generat" in text, pick.paper.title
    # Interleaved, not pushed to the bottom: the model's best pick stays first.
    assert picks[0].reason.startswith(("Because you upvoted", "By ", "On “"))
    assert picks[3] is followed[0]
    assert len({r.paper.pk for r in picks}) == 12


def test_the_follows_picks_are_cached_until_the_follows_change(pruning_fan, alice, monkeypatch):
    from dailypapers.digests.services import follow_add

    searches = []
    real = selectors._recommend_by_topics

    def counted(*args, **kwargs):
        searches.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "_recommend_by_topics", counted)
    follow_add(user=alice, kind="topic", value="video generation")
    first = recommend_for(alice, limit=12)
    done = len(searches)
    assert [(r.paper.pk, r.reason) for r in recommend_for(alice, limit=12)] == [
        (r.paper.pk, r.reason) for r in first
    ]
    assert len(searches) == done  # the second visit searched nothing
    follow_add(user=alice, kind="topic", value="reinforcement learning")
    picks = recommend_for(alice, limit=12)
    assert len(searches) > done
    assert "Matches your topic “reinforcement learning”" in {r.reason for r in picks}
