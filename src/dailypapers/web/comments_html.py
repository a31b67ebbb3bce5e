"""Comments as a page shows them: in thread order, their Markdown rendered to safe HTML."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt

from dailypapers.models import Comment
from dailypapers.web.schemas import CommentOut

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


def threaded(comments: Sequence[Comment]) -> list[CommentOut]:
    """Comments in reading order: each followed by its replies, oldest first, with its depth.

    A loop over a stack rather than recursion, so that no thread is too deep to show.
    """
    present = {comment.id for comment in comments}
    replies: dict[int | None, list[Comment]] = defaultdict(list)
    for comment in sorted(comments, key=lambda c: c.id):
        replies[comment.parent_id if comment.parent_id in present else None].append(comment)
    ordered: list[CommentOut] = []
    pending = [(comment, 0) for comment in reversed(replies[None])]
    while pending:
        comment, depth = pending.pop()
        removed = comment.deleted or comment.hidden
        html = None if removed else render_markdown(comment.body)
        ordered.append(CommentOut.of(comment, html, depth))
        pending.extend((reply, depth + 1) for reply in reversed(replies[comment.id]))
    return ordered
