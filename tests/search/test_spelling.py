"""Corrections against a small dictionary: one edit fixes a word, and a long query of unknown
words costs a bounded number of look-ups."""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.search.spelling import AT_MOST, corrections, one_edit

PAPERS_HOLDING = {"transformer": 40, "transformers": 12, "memory": 30, "recurrent": 9}


class Dictionary:
    def __init__(self) -> None:
        self.looked_up = 0

    def __call__(self, words: Sequence[str]) -> dict[str, int]:
        self.looked_up += len(words)
        return {word: PAPERS_HOLDING.get(word, 0) for word in words}


def test_the_most_held_spelling_one_edit_away_wins() -> None:
    found = corrections(["tranformer", "memmory", "memory", "cat"], Dictionary())
    assert found == {"tranformer": "transformer", "memmory": "memory"}


def test_a_long_query_of_unknown_words_corrects_the_first_few_only() -> None:
    words = [f"zzword{letter}" for letter in "abcdefghijklmnopqrstuvwxyz"] + ["tranformer"]
    dictionary = Dictionary()
    assert corrections(words, dictionary) == {}  # the typo comes after AT_MOST unknown words
    most = len(words) + sum(len(one_edit(word)) for word in words[:AT_MOST])
    assert dictionary.looked_up <= most
    assert corrections(["tranformer", *words[:3]], Dictionary()) == {"tranformer": "transformer"}
