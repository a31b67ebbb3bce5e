"""One typo per word: a word the index does not hold is replaced by the spelling one edit away
(a letter dropped, added, changed, or two swapped) that most papers hold, as "did you mean"
does. The index is the dictionary, so a corpus's own terms are spelled as it spells them."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence

MIN_LETTERS = 5  # shorter words have too many neighbours one edit away
LETTERS = string.ascii_lowercase
# Each unknown word costs ~54 x its length look-ups: a long query corrects its first few only.
AT_MOST = 8

# How many papers hold each word (matched as the index matches words); 0 when none.
Frequencies = Callable[[Sequence[str]], dict[str, int]]


def one_edit(word: str) -> set[str]:
    """Every lower-case spelling one edit away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    added = {a + c + b for a, b in splits for c in LETTERS}
    return (dropped | swapped | changed | added) - {word}


def correctable(word: str) -> bool:
    return len(word) >= MIN_LETTERS and word.isascii() and word.isalpha()


def corrections(words: Iterable[str], frequencies: Frequencies) -> dict[str, str]:
    """Typed word -> its correction, for the words no paper holds that one edit fixes."""
    candidates = list(dict.fromkeys(w for w in words if correctable(w)))
    if not candidates:
        return {}
    known = frequencies(candidates)
    unknown = [word for word in candidates if not known.get(word)][:AT_MOST]
    variants = {word: sorted(one_edit(word.lower())) for word in unknown}
    counts = frequencies(sorted({v for spellings in variants.values() for v in spellings}))
    found = {}
    for word, spellings in variants.items():
        best = max(spellings, key=lambda spelling: counts.get(spelling, 0), default=None)
        if best is not None and counts.get(best, 0) > 0:
            found[word] = best
    return found
