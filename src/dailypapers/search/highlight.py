"""Abstract excerpts with the query's words marked, matched the way the index matched them
(by stem: a query for "transformers" marks "Transformer")."""

from __future__ import annotations

import re
from collections.abc import Collection

import tantivy
from markupsafe import Markup, escape

# tantivy's simple tokenizer: runs of letters and digits.
WORD = re.compile(r"[^\W_]+")
EXCERPT_CHARS = 320
LEAD_CHARS = 80  # context kept before the first match


def _stems(text: str, words: list[re.Match[str]], stemmer: tantivy.TextAnalyzer) -> list[str]:
    stems = stemmer.analyze(text)
    if len(stems) == len(words):
        return stems
    # remove_long dropped a token somewhere: stem word by word to stay aligned
    return [(stemmer.analyze(word.group()) or [""])[0] for word in words]


def excerpt(text: str, terms: Collection[str], stemmer: tantivy.TextAnalyzer) -> Markup:
    """About EXCERPT_CHARS of `text` around its first matched word, matches in <mark>."""
    words = list(WORD.finditer(text))
    matched = [
        w for w, stem in zip(words, _stems(text, words, stemmer), strict=True) if stem in terms
    ]
    start = 0
    if matched and matched[0].start() > LEAD_CHARS:
        start = text.find(" ", matched[0].start() - LEAD_CHARS) + 1
    stop = min(len(text), start + EXCERPT_CHARS)
    if stop < len(text):
        stop = max(text.rfind(" ", start, stop), start + 1)
    pieces = [Markup("…")] if start else []
    position = start
    for word in matched:
        if word.start() < start or word.end() > stop:
            continue
        pieces += [escape(text[position : word.start()]), Markup("<mark>%s</mark>") % word.group()]
        position = word.end()
    pieces.append(escape(text[position:stop]))
    if stop < len(text):
        pieces.append(Markup("…"))
    return Markup("").join(pieces)
