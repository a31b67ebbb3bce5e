"""What turns stored text into what a reader sees: links and paths that are safe to follow.

Stored text comes from sources anyone can write to (a Hugging Face page, a JSON-lines
file, an author list), so it is never pasted into a URL: a project page of
`javascript:alert(1)` must not become a link, nor an id of `../admin/users/x/ban?x=` a
form that posts somewhere else.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

from dailypapers.models import is_paper_id

LINK_SCHEMES = frozenset({"http", "https"})
# What makes Markdown of text: emphasis, code, links and images (HTML is escaped apart).
_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*_\[\]]")


def safe_url(value: str | None) -> str | None:
    """An http(s) URL with a host, as a browser would read it; None for anything else."""
    if not value:
        return None
    try:
        # urlsplit drops what browsers drop too: surrounding blanks, tabs and newlines.
        parts = urlsplit(value.strip())
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
        return None
    return parts.geturl()


def path_segment(text: str) -> str:
    """`text` as one segment of a path: "/", "?", "#" and the rest percent-encoded, so it
    can add no segment and no query."""
    segment = quote(text, safe="")
    if segment.strip("."):
        return segment
    # Browsers climb "." and ".." even percent-encoded (WHATWG URL); encoded twice, the
    # segment names nothing here.
    return segment.replace(".", "%252E")


def _id_path(paper_id: str) -> str:
    # An id outside arXiv's grammar (stored before the sources checked ids) is one inert
    # segment, which no route matches.
    return paper_id if is_paper_id(paper_id) else path_segment(paper_id)


def paper_path(paper_id: str, suffix: str = "") -> str:
    """The site's path of a paper, with `suffix` ("/vote", ".json") after it."""
    return f"/papers/{_id_path(paper_id)}{suffix}"


def arxiv_url(paper_id: str, kind: str = "abs") -> str:
    """The paper on arxiv.org: its abstract page (`abs`) or its PDF (`pdf`)."""
    return f"https://arxiv.org/{kind}/{_id_path(paper_id)}"


def doi_url(doi: str) -> str:
    """The DOI resolver's link for a DOI (10.1103/PhysRevD.76.013009); DOIs hold "/"."""
    return f"https://doi.org/{quote(doi.strip(), safe='/')}"


def markdown_text(text: str) -> str:
    """Stored text as Markdown that shows it as it is: its HTML as entities (which every
    Markdown renders as text) and no emphasis, links or images of its own."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", html.escape(text, quote=False))


def split_abstract(text: str | None, lead_chars: int = 240) -> tuple[str, str]:
    """An abstract's first words (about two lines) and the rest, cut between words and
    outside any $…$ formula, so that either part renders on its own."""
    text = " ".join((text or "").split())
    if len(text) <= lead_chars:
        return text, ""
    for cut in (m.start() for m in re.finditer(" ", text[lead_chars:])):
        at = lead_chars + cut
        if text[:at].replace("\\$", "").count("$") % 2 == 0:
            return text[:at], text[at + 1 :]
    return text, ""
