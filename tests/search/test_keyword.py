import pytest

from dailypapers.search import search_papers


def test_it_finds_pruning_papers_first_by_keywords(keyword_only, load_real_papers):
    load_real_papers()
    results = search_papers("structured pruning of large language models", limit=5)
    assert results.mode == "keyword"
    assert results.notice is None
    assert results.total > 5
    assert all("prun" in p.title.lower() for p in results.papers[:3])


def test_it_finds_pruning_papers_first_in_hybrid_mode(load_real_papers):
    load_real_papers()
    results = search_papers("structured pruning of large language models", limit=5)
    assert results.mode == "hybrid"
    assert all("prun" in p.title.lower() for p in results.papers[:3])


def test_a_typed_title_wins_through_its_coverage_bonus(tantivy_engine, paper, monkeypatch):
    """The bonus is added in a second stage, to the best plain matches: here the typed
    title's paper is only the 7th plain match, and still comes first with limit=1."""
    from dailypapers.search import keyword

    wanted = paper(title="Speculative decoding with draft models", abstract="We go faster.")
    for number in range(6):
        paper(
            title=f"Inference systems, part {number}",
            abstract="Speculative decoding with draft models. " * 4 + "Draft models decode.",
        )
    assert search_papers("speculative decodnig with draft models", limit=1).papers == [wanted]
    monkeypatch.setattr(keyword, "COVERAGE_BOOST", 0.0)
    plain = search_papers("speculative decodnig with draft models", limit=10).papers
    assert plain.index(wanted) == 6


def test_only_titles_holding_80_percent_of_the_words_get_the_bonus(tantivy_engine, paper):
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    four = paper(title="Message passing graph networks", abstract="On molecules.")
    three = paper(title="Message passing graph models", abstract="On networks of molecules.")
    engine = keyword.get_index()

    def scores(query, boost):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(keyword, "COVERAGE_BOOST", boost)
            hits, _ = engine.search(parse(query), keyword.Filters(), limit=10)
        return {hit.pk: hit.score for hit in hits}

    query = "message passing graph networks molecules"  # 4 of 5 words in `four`'s title
    with_bonus, without = scores(query, 2.0), scores(query, 0.0)
    assert with_bonus[four.pk] > without[four.pk] + 1.0
    assert with_bonus[three.pk] == pytest.approx(without[three.pk])


def test_when_every_word_is_common_a_paper_must_hold_them_all(tantivy_engine, paper):
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    both = [paper(title=f"Graph pruning {n}", abstract="Pruned graphs.") for n in range(2)]
    for n in range(6):  # each word in 8 of the 40 papers: common, under AND_SHARE
        paper(title=f"Graph networks {n}", abstract="Message passing.")
        paper(title=f"Pruning networks {n}", abstract="Sparse weights.")
    for n in range(26):
        paper(title=f"Speech recognition {n}", abstract="Audio.")
    engine, parsed = keyword.get_index(), parse("graph pruning")

    def search(limit):
        hits, total = engine.search(parsed, keyword.Filters(), limit=limit)
        return {hit.pk for hit in hits}, total

    assert search(limit=2) == ({p.pk for p in both}, 2)
    found, total = search(limit=20)  # fewer than asked for: either word will do
    assert total == 14 and {p.pk for p in both} <= found
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyword, "AND_SHARE", 0.1)  # the rarest word is then too common
        assert search(limit=2)[1] == 14


def test_the_word_itself_ranks_above_its_other_forms(tantivy_engine, paper):
    from dailypapers.search import keyword

    pruning = paper(title="Sparse networks", abstract="Pruning of weights.")
    pruned = paper(title="Sparse networks", abstract="Pruned weights.")
    searcher = keyword.get_index().index.searcher()
    assert len(keyword.get_index()._word("pruning", searcher, fuzzy=False)) == 3
    assert search_papers("pruning").papers == [pruning, pruned]


def test_a_word_that_is_its_stems_only_form_is_one_posting_list(tantivy_engine, paper):
    """When (nearly) every paper with the stem holds the word itself, its bonus for the
    word itself is a boost of the stem: the same scores, one posting list fewer."""
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    for words in ("Quantization of weights.", "Weight quantization, again.", "Other."):
        paper(title="Small networks", abstract=words)
    engine = keyword.get_index()
    searcher = engine.index.searcher()

    def scores():
        hits, _ = engine.search(parse("quantization"), keyword.Filters(), limit=10)
        return sorted(hit.score for hit in hits)

    assert len(engine._word("quantization", searcher, fuzzy=False)) == 2  # authors, stem
    folded = scores()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyword, "FOLD_SHARE", 2.0)  # never fold
        assert len(engine._word("quantization", searcher, fuzzy=False)) == 3
        assert scores() == pytest.approx(folded, rel=1e-5)
    assert len(folded) == 2


def test_the_quick_title_test_passes_every_title_that_gets_the_bonus(
    tantivy_engine, load_real_papers, paper
):
    """Only titles that pass TitleCoverage._may_cover are analysed: it must let through
    every title that holds enough of the words: typed ones, cut, misspelt, with accents."""
    from dailypapers.search import acronyms, index_papers, keyword
    from dailypapers.search.query import parse

    papers = load_real_papers(index=False)
    for title in ("Naïve Bayes, revisited", "Naïve agents", "A naïve baseline", "Bayes nets"):
        papers.append(paper(title=title, abstract="Priors."))
    index_papers([paper.pk for paper in papers])
    queries = ["naive bayes"]
    for paper in papers[:60]:
        words = paper.title.split()
        queries += [paper.title, " ".join(words[: max(2, len(words) // 2)])]
        if len(words) >= 3 and all(len(word) >= 5 for word in words[:2]):
            misspelt = [word[0] + word[2] + word[1] + word[3:] for word in words[:2]]
            queries.append(" ".join(misspelt + words[2:3]))  # two of three words misspelt
    engine = keyword.get_index()
    searcher = engine.index.searcher()

    def titled(query, quick):
        parsed = acronyms.expand(parse(query))
        coverage = keyword.TitleCoverage.of(parsed, searcher)
        query, _ = engine.build_query(parsed, keyword.Filters(), narrow=False)
        found = searcher.search(query, keyword.RESCORE_POOL).hits
        pks = searcher.fast_field_values("pk", [address for _, address in found])
        hits = [keyword.Hit(pk=pk, score=score) for pk, (score, _) in zip(pks, found, strict=True)]
        with pytest.MonkeyPatch.context() as patch:
            if not quick:
                patch.setattr(keyword.TitleCoverage, "_may_cover", lambda self, title: True)
            return {hit.pk for hit in coverage.rescore(hits) if hit.titled}

    for query in queries:
        assert titled(query, quick=True) == titled(query, quick=False), query
    assert papers[-4].pk in titled("naive bayes", quick=True)
    assert sum(1 for query in queries if titled(query, quick=True)) > len(queries) * 0.8


def test_a_hyphenated_word_ranks_its_compound_first_and_finds_its_parts(tantivy_engine, paper):
    """A hyphenated word finds what its words typed apart find: the compound (one term of
    the compounds field) only ranks the papers that write it first. Quoted, it is required."""
    joined = paper(title="Vision-Language models for robots", abstract="Robots see.")
    apart = paper(title="Language models for robot vision", abstract="Vision, then language.")
    seen = paper(title="Vision and language, seen apart", abstract="Vision and language.")
    found = search_papers("vision-language robots").papers
    assert found[0] == joined and set(found) == {joined, apart, seen}
    assert set(search_papers("vision language robots").papers) == set(found)
    assert search_papers("Vision-Language-Models").papers[0] == joined
    assert search_papers('"vision-language"').papers == [joined]
    assert joined in search_papers("vision-language-action").papers


def test_a_hyphenated_query_finds_what_the_spaced_one_does(tantivy_engine, paper):
    """The query "tool-use" found the one paper that writes "Tool-Use", "tool use" every paper about
    tools."""
    compound = paper(title="Adaptive Tool-Use for images", abstract="Agents call tools.")
    tools = paper(title="Tool-Augmented reasoning over video", abstract="We use tools.")
    use = paper(title="Nested browser use", abstract="A tool that browses.")
    paper(title="Speech recognition", abstract="Audio.")
    found = search_papers("tool-use").papers
    assert found[0] == compound
    assert set(found) == set(search_papers("tool use").papers) == {compound, tools, use}


def test_a_version_typed_apart_finds_the_name_written_joined(tantivy_engine, paper):
    """The query "LLaDA 2.0" finds the title that writes "LLaDA2.0" first, and "Qwen3" the one that
    writes "Qwen 3": the name and its number joined, or split, are another form."""
    llada = paper(title="LLaDA2.0: Scaling Up Diffusion Language Models", abstract="Big.")
    qwen = paper(title="Qwen 3 Technical Report", abstract="A family of models.")
    for n in range(4):
        paper(title=f"Avatar 2.0 report {n}", abstract="Version 2.0 of a model, 3 sizes.")
    paper(title="LLaDA-V: visual instruction tuning", abstract="LLaDA sees images.")
    assert search_papers("LLaDA 2.0").papers[0] == llada
    assert search_papers("llada 2").papers[0] == llada
    assert search_papers("LLaDA2").papers[0] == llada
    assert search_papers("Qwen3").papers[0] == qwen
    assert search_papers("qwen 3").papers[0] == qwen
    gpt = paper(title="GPT 4o system card", abstract="A model.")
    assert search_papers("GPT4o").papers[0] == gpt


def test_common_words_rank_papers_but_do_not_select_them(tantivy_engine, paper):
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    for number in range(25):  # "pruning" is then in under COMMON_SHARE of the papers
        paper(title=f"A language model, part {number}", abstract="Models of language.")
    pruned = paper(title="Pruning a language model", abstract="We prune models.")
    engine, parsed = keyword.get_index(), parse("language model pruning")
    searcher = engine.index.searcher()
    narrowed, was_narrowed = engine.build_query(parsed, keyword.Filters())
    whole, _ = engine.build_query(parsed, keyword.Filters(), narrow=False)
    assert was_narrowed  # "language" and "model" are in every paper, "pruning" in one
    by_rare, by_all = searcher.search(narrowed, 20), searcher.search(whole, 20)
    assert (by_rare.count, by_all.count) == (1, 26)
    assert by_rare.hits[0][0] == pytest.approx(by_all.hits[0][0])  # the same score
    # Fewer matches of the rarer words than asked for: the search falls back to every
    # match. Enough of them, and papers that hold only common words are not matches.
    hits, total = engine.search(parsed, keyword.Filters(), limit=20)
    assert total == 26 and hits[0].pk == pruned.pk
    hits, total = engine.search(parsed, keyword.Filters(), limit=1)
    assert total == 1 and [hit.pk for hit in hits] == [pruned.pk]


def test_a_paper_holding_the_querys_words_side_by_side_ranks_first(tantivy_engine, paper):
    """Proximity: the same words, each once; the paper that holds them as the query has
    them ("chain of thought", "reward model") ranks above the one that scatters them, which
    plain BM25 puts first (its text is shorter)."""
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    together = paper(
        title="Sampling study",
        abstract="We sample a chain of thought and score it with a reward model, on maths.",
    )
    apart = paper(title="Sampling study", abstract="The thought of a model: a reward chain.")
    for number in range(20):  # the words are rare, as in a real corpus
        paper(title=f"Graph coloring, part {number}", abstract="On planar graphs.")
    engine = keyword.get_index()

    def ranked(boost):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(keyword, "PROXIMITY_BOOST", boost)
            hits, _ = engine.search(
                parse("chain of thought reward model"), keyword.Filters(), limit=2
            )
        return [hit.pk for hit in hits]

    assert ranked(0.0) == [apart.pk, together.pk]
    assert ranked(1.0) == [together.pk, apart.pk]


def test_a_name_held_within_one_authors_byline_is_a_pair_too(tantivy_engine, paper):
    """Proximity reads the authors' names, each apart: a paper by Kaiming He ranks above
    one that says "Kaiming" in its abstract and has another He among its authors, and a
    pair never runs from one name into the next."""
    by_him = paper(
        title="Diffusion without noise",
        abstract="Diffusion models, revisited on images.",
        authors=[{"name": "Runqian Wang"}, {"name": "Kaiming He"}],
    )
    mentions = paper(
        title="Diffusion with a better start",
        abstract="Diffusion models trained from Kaiming initialization.",
        authors=[{"name": "Jin He"}, {"name": "Yu Chen"}],
    )
    apart = paper(
        title="Diffusion of the second kind",
        abstract="Diffusion models, revisited on images.",
        authors=[{"name": "Ada Kaiming"}, {"name": "He Yu"}],
    )
    for number in range(20):  # the names are rare, as in a real corpus
        paper(title=f"Graph coloring, part {number}", abstract="On planar graphs.")
    found = search_papers("Kaiming He diffusion", mode="keyword").papers
    assert found[0] == by_him
    assert found.index(apart) > found.index(mentions)


def test_the_parts_of_a_versioned_name_pair_only_after_the_name(tantivy_engine, paper):
    """ "Qwen2.5-VL" is the stems qwen2, 5 and vl: the pair "5 vl" alone is another model
    ("Seed1.5-VL"), so a pair of a word's later parts counts only with the parts before
    them, from the name on."""
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    named = paper(title="Chart study", abstract="We fine-tune Qwen2.5-VL on charts.")
    version = paper(title="Maths study", abstract="We fine-tune Qwen2.5 on maths.")
    apart = paper(title="Chart study", abstract="We fine-tune Qwen-2.5-VL on charts.")
    other = paper(title="Seed1.5-VL Technical Report", abstract="A vision-language model.")
    for number in range(20):  # the words are rare, as in a real corpus
        paper(title=f"Graph coloring, part {number}", abstract="On planar graphs.")
    hits, _ = keyword.get_index().search(parse("Qwen2.5-VL"), keyword.Filters(), limit=10)
    bonus = {hit.pk: hit.proximity for hit in hits}
    assert bonus[other.pk] == 0.0
    assert bonus[named.pk] > bonus[version.pk] > 0.0
    assert bonus[apart.pk] > 0.0


def test_only_the_best_candidates_are_read_for_the_proximity_bonus(
    tantivy_engine, paper, monkeypatch
):
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    for number in range(5):
        paper(title=f"Paper {number}", abstract=f"Chain of thought, part {number}.")
    read = []
    texts = keyword._texts
    monkeypatch.setattr(keyword, "_texts", lambda pks: read.append(len(pks)) or texts(pks))
    monkeypatch.setattr(keyword, "PROXIMITY_POOL", 3)
    hits, _ = keyword.get_index().search(parse("chain of thought"), keyword.Filters(), limit=5)
    assert read == [3] and len(hits) == 5


def test_the_hybrids_wider_pool_starts_with_the_keyword_page(tantivy_engine, paper):
    """The hybrid asks for a pool of 300, more than the rare word's matches: the fallback
    adds the papers that hold only the common words. A title holding those (a coverage
    bonus) took the first place from the paper that holds the rare word, which a page of
    keyword results shows first ("... multimodal LLMs MLLMs ..." lost its known item)."""
    from dailypapers.search import keyword
    from dailypapers.search.query import parse

    for number in range(100):
        paper(title=f"Unrelated study {number}", abstract="Something else entirely.")
    for number in range(10):  # the common words, in ~10% of the papers
        paper(title=f"Study {number}", abstract="Large language model reasoning.")
    titled = paper(title="Large language model reasoning", abstract="A survey.")
    pruned = paper(title="Sparsity", abstract="Pruning a large language model for reasoning.")
    engine, parsed = keyword.get_index(), parse("large language model reasoning pruning")

    def first(**pages):
        hits, total = engine.search(parsed, keyword.Filters(), limit=50, enough=50, **pages)
        return hits[0].pk, len(hits), total

    assert first(page=1) == (pruned.pk, 12, 12)  # the page's paper first, then the pool
    assert first() == (titled.pk, 12, 12)  # ranked together: the title's bonus wins


def test_a_word_counted_in_deleted_documents_too_has_no_negative_idf():
    """Until segments merge, a word's count holds the documents a reindex deleted and can
    pass the live count: the idf went negative, its square root (title_shares) complex,
    and hybrid searches during a reindex fell back to keywords ("semantic search failed")."""
    from dailypapers.search.keyword import _idf

    assert _idf(12, 10) >= 0 and (_idf(12, 10) ** 0.5).imag == 0
    assert _idf(1, 10) > _idf(5, 10) > _idf(10, 10) >= 0
