"""The reasons shown beside related papers and "For you" picks name what the papers share
that is specific: never a word most papers use, nor boilerplate a pair of abstracts happens
to share ("address propose", "obtain", "size", "model"), on the sample's real papers."""

import io
import re

from dailypapers.papers.services import vote_cast
from dailypapers.search import recommend_for, related, related_papers

GENERIC = {"address propose", "obtain", "size", "model", "models", "propose", "address"}
QUOTED = re.compile(r"“([^”]+)”")
MAX_SHARE = 0.05  # a reason's term is held by at most 5% of the papers (2 on a small site)


def _corpus_df(papers):
    """{term: papers holding it}, the terms as the reasons' analyzer writes them, counted
    over the papers' texts (not from the hashed sample the code uses)."""
    analyze = related._analyzer()
    df = {}
    for paper in papers:
        for term in set(analyze(f"{paper.title} {paper.abstract[: related.ABSTRACT_CHARS]}")):
            df[term] = df.get(term, 0) + 1
    return df


def _too_common(term, df, docs):
    """Whether every 1-3 word window of `term` is held by more papers than a reason may."""
    words = [t for t in related._analyzer()(term) if " " not in t]
    limit = max(2, MAX_SHARE * docs)
    windows = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    return all(df.get(window, 0) > limit for window in windows)


def _shared_terms(reason):
    """The terms a related paper's reason names (after "shares")."""
    if "hares “" not in reason:
        return []
    return QUOTED.findall(reason[reason.index("hares “") :])


def test_related_papers_name_only_terms_few_papers_hold(load_real_papers):
    papers = load_real_papers()
    df, docs = _corpus_df(papers), len(papers)
    named = []
    for anchor in papers[::40]:  # 11 papers across the sample
        for other in related_papers(anchor, limit=10):
            reason = other.related_reason
            terms = _shared_terms(reason)
            named += terms
            for term in terms:
                assert term.lower() not in GENERIC, (anchor.arxiv_id, reason)
                assert not _too_common(term, df, docs), (anchor.arxiv_id, term, reason)
            assert reason not in {"Shares “obtain”", "Shares “size”", "Shares “model”"}
    assert len(named) >= 10  # papers that share something specific still say it


def test_a_pair_sharing_only_wording_reads_similar_in_content(load_real_papers):
    """Two unrelated real abstracts that both happen to "address" then "propose", and use
    "model": nothing specific is shared, so the reason says so modestly."""
    papers = load_real_papers()
    worded = [
        p
        for p in papers
        if "address" in p.abstract and "propose" in p.abstract and " model " in p.abstract
    ]
    df = _corpus_df(papers)
    assert df["address propose"] >= 2 and df["model"] > len(papers) / 4
    pairs = [(a, b) for a in worded[:12] for b in worded[:12] if a.pk < b.pk]
    reasons = [related.reason(a, b) for a, b in pairs]
    assert "Similar in content" in reasons
    for reason in reasons:
        assert not set(_shared_terms(reason)) & GENERIC, reason


def test_for_you_never_names_a_generic_interest(load_real_papers, alice):
    """A member whose three likes have only "model" in common: it is not named as their
    interest, nor as a phrase of a pick."""
    papers = load_real_papers()
    df, docs = _corpus_df(papers), len(papers)
    analyze = related._analyzer()
    texts = {
        p.pk: set(analyze(f"{p.title} {p.abstract[: related.ABSTRACT_CHARS]}")) for p in papers
    }
    limit = max(2, MAX_SHARE * docs)
    with_model = [p for p in papers if "model" in texts[p.pk]]
    liked = with_model[:1]
    for paper in with_model[1:]:  # three likes that share no specific term
        shared = set.intersection(texts[paper.pk], *(texts[p.pk] for p in liked))
        if all(df[t] > limit for t in shared):
            liked.append(paper)
        if len(liked) == 3:
            break
    assert len(liked) == 3
    for paper in liked:
        vote_cast(user=alice, paper=paper)
    picks = recommend_for(alice, limit=10)
    assert picks
    for pick in picks:
        reason = pick.reason
        assert not reason.startswith("On “model”"), reason
        named = QUOTED.findall(reason)
        if reason.startswith("Because you"):
            named = named[1:]  # the liked paper's title
        for term in named:
            assert term not in GENERIC, reason
            assert not _too_common(term, df, docs), (term, reason)


def test_a_shared_author_and_a_rare_shared_category_are_reasons(make_paper):
    def make(title, abstract, name, category):
        return make_paper(
            title=title, abstract=abstract, authors=[{"name": name}], categories=[category]
        )

    site = [
        make(f"Parsing study {n}", f"Sentences parsed, batch {n}.", f"Author {n}", "cs.CL")
        for n in range(30)
    ]
    neurons = make("Spiking neurons", "Cortex recordings.", "Grace Hopper", "q-bio.NC")
    synapses = make("Synapse plasticity", "Dendrite imaging.", "Ada Byron", "q-bio.NC")
    coauthored = make("Sorting networks", "Comparators.", "grace  hopper", "cs.CL")
    assert related.reason(neurons, synapses) == "Also in q-bio.NC"
    assert related.reason(neurons, coauthored) == "Also by Grace Hopper"
    assert related.reason(site[0], site[1]) == "Similar in content"  # cs.CL: the whole site


def test_the_demo_member_who_upvoted_the_top_three_papers_is_not_told_model(db, alice):
    """The bundled sample as `dailypapers demo` loads it; a new member upvotes the three
    first papers of the trending page, as in a trial where For you then read "On “model”,
    like 3 of the 3 papers you liked" beside every pick."""
    from django.core.management import call_command

    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers

    call_command("load_sample", stdout=io.StringIO())
    index_papers(list(Paper.objects.values_list("pk", flat=True)))
    for paper in Paper.objects.visible().order_by("-trending_score")[:3]:
        vote_cast(user=alice, paper=paper)
    papers = list(Paper.objects.all())
    df, docs = _corpus_df(papers), len(papers)
    picks = recommend_for(alice, limit=20)
    assert len(picks) == 20
    for pick in picks:
        assert not pick.reason.startswith("On “"), pick.reason  # no specific interest here
        named = QUOTED.findall(pick.reason)[1:]  # after the liked paper's title
        for term in named:
            assert term not in GENERIC and not _too_common(term, df, docs), pick.reason


def test_a_shared_phrase_is_named_as_the_paper_writes_it(make_paper):
    """The analyzer's "mixture experts" and "30b a3b" read as the abstract has them. The
    texts are from the sample's 2512.20848 and 2512.23447."""
    site = [make_paper(title=f"Parsing study {n}", abstract=f"Batch {n}.") for n in range(30)]
    nemotron = make_paper(
        title="Nemotron 3 Nano: Open, Efficient Mixture-of-Experts Hybrid Mamba-Transformer",
        abstract="We present Nemotron 3 Nano 30B-A3B, a Mixture-of-Experts hybrid "
        "Mamba-Transformer language model.",
        authors=[{"name": "Aaron Blakeman"}],
    )
    routers = make_paper(
        title="Coupling Experts and Routers in Mixture-of-Experts via an Auxiliary Loss",
        abstract="We train 30B-A3B models; in a 30B-A3B mixture of experts, a router "
        "sends each token.",
        authors=[{"name": "Ang Lv"}],
    )
    reason = related.reason(nemotron, routers)
    assert "“Mixture-of-Experts”" in reason and "“30B-A3B”" in reason, reason
    assert related.written_as("real time interactive", "Real-time interactive video") == (
        "Real-time interactive"
    )
    assert related.written_as("agentic reasoning", site[0].title) == "agentic reasoning"
