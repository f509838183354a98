import pytest

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id


@pytest.mark.parametrize(
    "text, base, version",
    [
        ("2401.01234", "2401.01234", None),
        ("2401.01234v3", "2401.01234", 3),
        ("0704.0001", "0704.0001", None),
        ("arXiv:2401.01234v2", "2401.01234", 2),
        ("  ARXIV: 2401.01234 ", "2401.01234", None),
        ("https://arxiv.org/abs/2401.01234v2", "2401.01234", 2),
        ("https://arxiv.org/pdf/2401.01234v2.pdf", "2401.01234", 2),
        ("arxiv.org/pdf/2401.01234", "2401.01234", None),
        ("https://export.arxiv.org/abs/2401.01234?context=cs", "2401.01234", None),
        ("https://huggingface.co/papers/2401.01234", "2401.01234", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v2", "hep-th/9901001", 2),
        ("math.AG/0601001", "math.AG/0601001", None),
        ("https://arxiv.org/abs/cond-mat/0011001v1", "cond-mat/0011001", 1),
    ],
)
def test_it_parses_what_users_type(text, base, version):
    parsed = parse_arxiv_id(text)
    assert (parsed.base, parsed.version) == (base, version)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "2401.123",
        "2401.123456",
        "2413.01234",
        "2401.01234v0",
        "x" * 1000,
        "https://example.com/abs/2401.01234",
        "2401.01234; DROP TABLE",
        None,
        "hep-th/990100",
    ],
)
def test_it_rejects_what_is_not_an_id_with_a_message(text):
    with pytest.raises(InvalidArxivId) as error:
        parse_arxiv_id(text)
    assert str(error.value)


def test_it_knows_the_month_of_old_and_new_ids():
    assert parse_arxiv_id("hep-th/9901001").yymm == (1999, 1)
    assert parse_arxiv_id("2401.01234").yymm == (2024, 1)
    assert parse_arxiv_id("hep-th/9901001").is_old_style
