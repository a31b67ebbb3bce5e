"""Comments' Markdown as safe HTML: for pages and for the mails that quote a comment."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML is shown as text; images are off, so a comment cannot make readers' browsers
# fetch from other sites (`![alt](url)` becomes a link).
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("strikethrough")
    .disable("image")
)
ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}


def render_markdown(text: str) -> str:
    """What Markdown makes is sanitised again: only ALLOWED_TAGS, http(s)/mailto links."""
    return nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
