"""A paper as a BibTeX entry, the way arXiv's own "Export BibTeX" writes one (@misc)."""

from __future__ import annotations

import re

from dailypapers.models import Paper
from dailypapers.texmath import plain
from dailypapers.text import arxiv_url

# What TeX would read as markup in a field; a stray brace would end the field early.
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile("|".join(re.escape(char) for char in _SPECIALS))
_NOT_IN_KEY = re.compile(r"[^A-Za-z0-9]")


def bibtex_text(text: str) -> str:
    """Text as a field holds it: formulas as Unicode (see texmath.plain), specials escaped,
    on one line."""
    return _SPECIAL.sub(lambda match: _SPECIALS[match[0]], " ".join(plain(text).split()))


def citation_key(paper: Paper) -> str:
    """surname + year + first word of the title (vaswani2017attention), letters and digits
    only; the arXiv id when those are missing."""
    surname = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else ""
    first_word = next(iter((paper.title or "").split()), "")
    year = str(paper.published.year) if paper.published else ""
    key = _NOT_IN_KEY.sub("", f"{surname}{year}{first_word}").lower()
    return key if surname and first_word else "arxiv" + _NOT_IN_KEY.sub("", paper.id)


def bibtex(paper: Paper) -> str:
    fields = {
        "title": bibtex_text(paper.title or paper.id),
        "author": " and ".join(bibtex_text(name) for name in paper.authors),
        "year": str(paper.published.year) if paper.published else "",
        "eprint": paper.id,
        "archivePrefix": "arXiv",
        "primaryClass": bibtex_text(paper.categories[0]) if paper.categories else "",
        "url": arxiv_url(paper.id),
    }
    lines = [f"  {name} = {{{value}}}," for name, value in fields.items() if value]
    return "\n".join([f"@misc{{{citation_key(paper)},", *lines, "}"]) + "\n"
