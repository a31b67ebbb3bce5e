"""Comments as a page shows them: in thread order, their Markdown rendered to safe HTML
(dailypapers.markdown)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dailypapers.markdown import render_markdown
from dailypapers.models import Comment
from dailypapers.web.schemas import CommentOut


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
