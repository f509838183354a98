"""A query that is a coined name ("DeepSeek-R1", "SAM 2") finds first the paper whose title
gives itself that name, however the name is typed. Titles from the real papers (arXiv
2501.12948, 2504.07128, 2501.18438, 2504.10081, 2408.00714, 2510.18822, 2506.09782), on the
site's engine with and without meaning."""

import pytest
from django.db import connection

from dailypapers.search import pg, search_papers

NAMED = "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning"
USING = [
    "DeepSeek-R1 Thoughtology: Let's <think> about LLM Reasoning",
    "o3-mini vs DeepSeek-R1: Which One is Safer?",
    "RealSafe-R1: Safety-Aligned DeepSeek-R1 without Compromising Reasoning Capability",
]


@pytest.fixture(params=["with meaning", "keywords only"])
def meaning(request, settings):
    if request.param == "keywords only":
        settings.SEARCH_EMBEDDER = "none"
    return request.param


def _papers(paper, named, using):
    made = [paper(title=title, abstract=f"We study {title}.") for title in [*using, named]]
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()
    return made[-1]


@pytest.mark.parametrize("typed", ["DeepSeek-R1", "deepseek-r1", "deepseek r1", "DeepSeekR1"])
def test_the_paper_a_name_is_of_comes_first(paper, meaning, typed):
    if typed == "DeepSeekR1" and meaning == "keywords only" and connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's words do not split a name typed as one; meaning finds it")
    named = _papers(paper, NAMED, USING)
    assert search_papers(typed).papers[0] == named


def test_a_name_with_a_number_is_matched_spaced_or_not(paper, meaning):
    named = _papers(
        paper,
        "SAM 2: Segment Anything in Images and Videos",
        [
            "SAM 2++: Tracking Anything at Any Granularity",
            "Q-SAM2: Accurate Quantization for Segment Anything Model 2",
        ],
    )
    for typed in ("SAM 2", "sam2"):
        assert search_papers(typed).papers[0] == named, typed


def test_a_technical_report_is_named_by_what_precedes_it(paper, meaning):
    named = _papers(
        paper, "Qwen3 Technical Report", ["Qwen3 Embedding", "Scaling Qwen3 with Qwen3 data"]
    )
    assert search_papers("qwen3").papers[0] == named


def test_an_ordinary_word_before_a_colon_is_not_a_name(paper, meaning):
    """A title "Position: ..." or "Retrieval-Augmented Generation: ..." names a kind of paper: a
    search for the word or the field ranks as it would without them."""
    _papers(paper, "Position: Agents need memory", ["Position embeddings", "Rotary position"])
    first = search_papers("position", mode="keyword").papers[0]
    assert first.title != "Position: Agents need memory"
