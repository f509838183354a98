"""Accents folded away, as the tantivy engine's analyzers fold them ("Schrödinger" is
"Schrodinger", "Łukasz" "Lukasz"): for the PostgreSQL engine's documents and queries,
which has no `unaccent`, and for matching author names."""

import re
import unicodedata

# The combining diacritical marks (and their supplements) that NFD splits from a letter.
# Other scripts' combining marks are parts of their letters and stay (kana's voicing
# marks, Indic vowel signs): only the accents of Latin, Greek and Cyrillic letters go.
ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# Letters that Unicode does not decompose into a base letter and an accent, folded as
# tantivy's ascii_fold folds them ("Lukasz" is "Łukasz", "Sigurdsson" "Sigurðsson").
UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "ð": "d", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae",
     "œ": "oe", "þ": "th", "Ł": "L", "Ø": "O", "Ð": "D", "Đ": "D", "Ħ": "H", "ẞ": "SS",
     "Æ": "AE", "Œ": "OE", "Þ": "TH"}
)  # fmt: skip


def fold_accents(text):
    """`text` without accents: decomposed (NFD), its accents dropped, composed again (NFC,
    so that Hangul syllables come back whole), the undecomposed letters folded. Case and
    everything else are kept."""
    if text.isascii():
        return text  # most titles and abstracts: nothing to do
    bare = ACCENTS.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", bare).translate(UNDECOMPOSED)
