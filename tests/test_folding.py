"""Accents folded as the search engines fold them (folding.fold_accents)."""

import pytest

from dailypapers.folding import fold_accents


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Schrödinger Bridge", "Schrodinger Bridge"),
        ("Poincaré, naïve café", "Poincare, naive cafe"),
        ("Łukasz Sigurðsson, Søren, ŁÓDŹ", "Lukasz Sigurdsson, Soren, LODZ"),
        ("Straße, Ærø, œuvre, Þór", "Strasse, AEro, oeuvre, THor"),
        ("plain ascii", "plain ascii"),
        ("한국어 학습, 中文, ガギグ, हिंदी", "한국어 학습, 中文, ガギグ, हिंदी"),  # whole letters
        ("e\u0301", "e"),  # already decomposed
    ],
)
def test_fold_accents(text, folded):
    assert fold_accents(text) == folded
