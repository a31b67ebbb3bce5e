"""Reply mails: "X replied to your comment on «title»", once per reply, with an off switch.

The notices are written with the replies (storage.reply_notices). A run claims them one at a
time, so that two runs (two workers) never send the same one, and hands each message over
as the digests do (mail/smtp.py): the row is marked `sent` while the message's final "." is
still unsent, so a run killed before that mark leaves a claim that a later run takes again
(`STALE`) and a message its server discarded. Transient failures put the row back for the
next run, up to MAX_ATTEMPTS tries; permanent ones (5xx) mark it `failed` with the reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid

from markupsafe import Markup

from dailypapers.config import Settings
from dailypapers.mail.render import MailWriter, sender_address
from dailypapers.mail.smtp import SmtpConnection, SmtpFailure, Unreachable
from dailypapers.markdown import render_markdown
from dailypapers.storage import Store
from dailypapers.storage.reply_notices import (
    FAILED,
    PENDING,
    SENT,
    ReplyNotice,
    claim_next,
    notice,
    settle,
)
from dailypapers.texmath import plain
from dailypapers.text import paper_path

MAX_ATTEMPTS = 3
STALE = timedelta(minutes=15)  # far past any SMTP timeout: the claim's worker is gone
PER_RUN = 200  # notices a run sends at most; the next run takes the rest


@dataclass
class RepliesReport:
    sent: int = 0
    skipped: int = 0  # the reader turned the mails off, or the reply was removed, since
    retrying: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (reply, reason)
    stopped: str | None = None  # why the run ended early (the server cannot be reached)


def _why_not(reply: ReplyNotice) -> str | None:
    if reply.removed:
        return "not sent: the reply was removed"
    if not reply.wants_mail:
        return "not sent: the reader turned reply mails off"
    if reply.email is None:
        return "not sent: the reader has no confirmed address"
    return None


class ReplyRun:
    def __init__(self, store: Store, settings: Settings, now: datetime) -> None:
        self.store = store
        self.settings = settings
        self.now = now
        self.sender = sender_address(settings.mail_from)
        self.writer = MailWriter(self.sender, now)
        self.report = RepliesReport()

    def run(self) -> RepliesReport:
        with SmtpConnection(self.settings) as smtp:
            tried: list[int] = []  # a failure is retried by the next run, not this one
            for _ in range(PER_RUN):
                with self.store.bookkeeping() as connection:
                    claimed = claim_next(connection, self.now, self.now - STALE, tried)
                    reply = notice(connection, claimed) if claimed is not None else None
                if reply is None or not self._send(smtp, reply):
                    break
                tried.append(reply.comment_id)
        return self.report

    def _send(self, smtp: SmtpConnection, reply: ReplyNotice) -> bool:
        """Send one notice's mail and record how it went; False when the run must stop."""
        if reason := _why_not(reply):
            self._settle(reply, FAILED, reason)
            self.report.skipped += 1
            return True
        try:
            smtp.send(
                self.sender.addr_spec,
                reply.email,  # type: ignore[arg-type]
                self._message(reply),
                handed_over=lambda: self._settle(reply, SENT),
            )
        except Unreachable as failure:
            if failure.handed_over:  # lost after the ".": taken as delivered (see smtp.py)
                self._settle(reply, SENT, f"{failure}; taken as delivered")
                self.report.sent += 1
                return True
            self._failed(reply, failure)
            self.report.stopped = str(failure)
            return False
        except SmtpFailure as failure:
            self._failed(reply, failure)
            return True
        self.report.sent += 1
        return True

    def _failed(self, reply: ReplyNotice, failure: SmtpFailure) -> None:
        reason = str(failure)
        if failure.permanent or reply.attempts >= MAX_ATTEMPTS:
            if not failure.permanent:
                reason = f"gave up after {reply.attempts} attempts: {reason}"
            self._settle(reply, FAILED, reason)
            self.report.failed.append((reply.comment_id, reason))
        else:
            self._settle(reply, PENDING, reason)
            self.report.retrying += 1

    def _settle(self, reply: ReplyNotice, status: str, error: str | None = None) -> None:
        with self.store.bookkeeping() as connection:
            settle(connection, reply.comment_id, status, self.now, error)

    def _message(self, reply: ReplyNotice) -> bytes:
        base = self.settings.base_url.rstrip("/")
        title = plain(reply.paper_title) or reply.paper_id
        context = {
            "body": reply.body,
            "body_html": Markup(render_markdown(reply.body)),
            "comment_link": f"{base}{paper_path(reply.paper_id)}#c-{reply.comment_id}",
            "off_switch": f"{base}/account",
        }
        message_id = make_msgid(
            idstring=f"reply.{reply.comment_id}", domain=self.sender.domain or "localhost"
        )
        return self.writer.reply(reply.email or "", message_id, reply.replier, title, context)


def send_reply_mails(store: Store, settings: Settings, now: datetime) -> RepliesReport:
    """Mail the pending reply notices (and the claims of runs that died)."""
    return ReplyRun(store, settings, now).run()
