"""Digest runs: compose each due subscriber's digest, record it in the outbox, send it.

Exactly once, as far as SMTP allows:

- The outbox's unique key (subscriber, period) holds one row per digest. A row is written
  `pending` before its digest is sent, and a row that is `sent` (or `failed` for good) is
  never sent again: a rerun of the same period, or a second run, skips it.
- A run holds a lock that its death releases (`storage.locks`), so two runs never race for
  the same row, and a rerun after `kill -9` can resend the rows the dead run left pending.
- A pending row left by a dead run was never handed over: the row is marked `sent` while the
  message's final "." is still unsent (see `mail/smtp.py`), so its server discarded what it
  got. The rerun sends it again, with the same Message-ID.
- The one gap SMTP leaves is the instant between that mark and writing the ".": a crash
  exactly there loses that one digest. A connection lost after the "." (no reply read) is
  taken as delivered and noted on the row: resending could mail it twice.

Transient failures (4xx, a lost connection) are retried with exponential backoff; permanent
ones (5xx) mark the row `failed` with the server's reply, which `subscriber list` shows. A
server that stays unreachable stops the run with a one-line DeliveryError; what is recorded
stays recorded, and the same command resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import make_msgid
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from dailypapers.config import Settings
from dailypapers.mail.render import Links, MailWriter, sender_address
from dailypapers.mail.search import search_function
from dailypapers.mail.selection import LOOKBACK_DAYS, Digest, DigestComposer, period_key
from dailypapers.mail.smtp import SmtpConnection, SmtpFailure, Unreachable
from dailypapers.mail.subscriptions import holder_payload
from dailypapers.mail.tokens import MANAGE, UNSUBSCRIBE, LinkSigner, link_signer
from dailypapers.models import OutboxEntry, Subscriber
from dailypapers.storage import Store
from dailypapers.storage.locks import exclusive
from dailypapers.storage.outbox import (
    FAILED,
    PENDING,
    SENT,
    forget_before,
    last_digest_days,
    mark,
    record_digests,
    settled,
)
from dailypapers.storage.subscriptions import active_subscribers

LOCK = "digests"
LOCK_WAIT_S = 5.0  # for a run that is ending (a killed run's PostgreSQL session)
CHUNK = 100  # digests composed and recorded per transaction
KEEP_OUTBOX = timedelta(days=90)  # rows outlive any likely rerun of their period by far
WEEKLY_WEEKDAY = 0  # the scheduler mails weekly digests on Mondays

Progress = Callable[[int, int, int], None]  # subscribers done, subscribers in all, sent


class DeliveryError(Exception):
    """The run cannot go on (one line); what it recorded stays, and a rerun resumes."""


@dataclass
class DeliveryReport:
    subscribers: int = 0  # considered in this run
    sent: int = 0
    empty: int = 0  # nothing new for them
    earlier: int = 0  # sent, or failed for good, by an earlier run for this period
    retried: int = 0  # transient failures retried
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    written: list[Path] = field(default_factory=list)  # --dry-run files


def local_today(subscriber: Subscriber, now: datetime) -> date:
    return now.astimezone(ZoneInfo(subscriber.time_zone)).date()


def due_day(subscriber: Subscriber, now: datetime, hour: int) -> date | None:
    """The day whose digest is due now, in the subscriber's time zone: from `hour` on (weekly
    ones on Mondays); None when not yet."""
    local = now.astimezone(ZoneInfo(subscriber.time_zone))
    if local.hour < hour:
        return None
    if subscriber.frequency == "weekly" and local.weekday() != WEEKLY_WEEKDAY:
        return None
    return local.date()


def send_digests(
    store: Store,
    settings: Settings,
    frequency: str,
    day: date | None = None,
    progress: Progress | None = None,
    dry_run: Path | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Every active subscriber of `frequency` gets the digest of `day` (default: today in
    their time zone), unless they got it already; `dry_run` writes .eml files instead."""
    now = now or datetime.now(UTC)
    with store.read() as connection:
        chosen = active_subscribers(connection, frequency)
    plan = [(s, day or local_today(s, now)) for s in chosen]
    return DigestRun(store, settings, now, progress).run(plan, dry_run)


def send_due_digests(
    store: Store, settings: Settings, now: datetime | None = None, hour: int | None = None
) -> DeliveryReport:
    """The scheduler's run: every subscriber whose digest hour (`hour`, default the
    setting's) has come today."""
    now = now or datetime.now(UTC)
    with store.read() as connection:
        chosen = active_subscribers(connection)
    hour = settings.digest_hour if hour is None else hour
    plan = [(s, d) for s in chosen if (d := due_day(s, now, hour))]
    return DigestRun(store, settings, now).run(plan)


class DigestRun:
    def __init__(
        self, store: Store, settings: Settings, now: datetime, progress: Progress | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.now = now
        self.progress = progress or (lambda done, total, sent: None)
        self.sender = sender_address(settings.mail_from)
        self.writer = MailWriter(self.sender, now)
        self.report = DeliveryReport()
        self.retries: list[tuple[Digest, OutboxEntry, bytes, int]] = []  # …, attempts so far

    def run(
        self, plan: Sequence[tuple[Subscriber, date]], dry_run: Path | None = None
    ) -> DeliveryReport:
        self.report.subscribers = len(plan)
        if not plan:
            return self.report
        self.signer = link_signer(self.settings, self.store)
        if dry_run is not None:
            dry_run.mkdir(parents=True, exist_ok=True)
            for digest in self._digests(plan):
                self._write(digest, dry_run)
                self._tick()
            return self.report
        with exclusive(self.store, LOCK, wait=LOCK_WAIT_S) as held:
            if not held:
                raise DeliveryError("another digest run is in progress; try again when it ends")
            with SmtpConnection(self.settings) as smtp:
                for digest, entry, payload in self._prepared(plan):
                    self._send(smtp, digest, entry, payload, attempts=0)
                    self._tick()
                self._retry(smtp)
            if self.report.sent:
                with self.store.transaction() as connection:
                    forget_before(connection, self.now - KEEP_OUTBOX)
        return self.report

    def _prepared(
        self, plan: Sequence[tuple[Subscriber, date]]
    ) -> Iterator[tuple[Digest, OutboxEntry, bytes]]:
        """Each digest to send, recorded (a chunk at a time, before any of it is sent) and
        rendered."""
        for chunk in _chunks(self._digests(plan), CHUNK):
            for digest, entry in self._record(chunk):
                yield digest, entry, self._message(digest, entry.message_id)

    def _digests(self, plan: Sequence[tuple[Subscriber, date]]) -> Iterator[Digest]:
        """The digests to send, skipping the subscribers who have theirs or have nothing new."""
        wanted = any(subscriber.searches for subscriber, _ in plan)
        search = search_function(self.settings, self.store) if wanted else None
        with self.store.read() as connection:
            keys = {period_key(s.frequency, d) for s, d in plan}
            done = settled(connection, sorted(keys))
            since = min(d for _, d in plan) - timedelta(days=LOOKBACK_DAYS)
            last_sent = last_digest_days(connection, since)
            composer = DigestComposer(
                connection, self.settings.base_url, self.now, search, self.store
            )
            for subscriber, day in plan:
                if (subscriber.id, period_key(subscriber.frequency, day)) in done:
                    self.report.earlier += 1
                elif digest := composer.compose(subscriber, day, last_sent.get(subscriber.id)):
                    yield digest
                    continue
                else:
                    self.report.empty += 1
                self._tick()

    def _tick(self) -> None:
        r = self.report
        handled = r.earlier + r.empty + r.sent + len(r.failed) + len(self.retries)
        self.progress(handled, r.subscribers, r.sent)

    def _record(self, digests: Sequence[Digest]) -> list[tuple[Digest, OutboxEntry]]:
        """Write the chunk's outbox rows before any of it is sent; leave out settled ones."""
        wanted = [(d.subscriber.id, d.period_key, d.days, self._message_id(d)) for d in digests]
        with self.store.transaction() as connection:
            entries = record_digests(connection, wanted, self.now)
        recorded = []
        for digest in digests:
            entry = entries[digest.subscriber.id, digest.period_key]
            if entry.status == PENDING:
                recorded.append((digest, entry))
            else:
                self.report.earlier += 1
        return recorded

    def _send(
        self,
        smtp: SmtpConnection,
        digest: Digest,
        entry: OutboxEntry,
        payload: bytes,
        attempts: int,
    ) -> None:
        email = digest.subscriber.email

        def handed_over() -> None:
            self._mark(entry, SENT)

        try:
            self._with_reconnects(
                lambda: smtp.send(self.sender.addr_spec, email, payload, handed_over)
            )
        except SmtpFailure as failure:
            self._failed(digest, entry, payload, attempts + 1, failure)
            return
        self.report.sent += 1

    def _with_reconnects(self, send: Callable[[], None]) -> None:
        """Retry a lost or refused connection with backoff; give up on the run after
        `smtp_retries` tries (the message's row stays pending: a rerun sends it)."""
        for attempt in range(self.settings.smtp_retries + 1):
            try:
                send()
                return
            except Unreachable as failure:
                if failure.handed_over:
                    raise
                if failure.permanent or attempt == self.settings.smtp_retries:
                    raise DeliveryError(
                        f"{failure}; {self.report.sent} digests sent, rerun to send the rest"
                    ) from None
                self.report.retried += 1
                time.sleep(self._backoff(attempt))

    def _failed(
        self,
        digest: Digest,
        entry: OutboxEntry,
        payload: bytes,
        attempts: int,
        failure: SmtpFailure,
    ) -> None:
        reason = str(failure)
        if isinstance(failure, Unreachable):  # after the "."; see the module docstring
            self._mark(entry, SENT, f"{reason}; taken as delivered", attempted=False)
            self.report.sent += 1
        elif failure.permanent or attempts > self.settings.smtp_retries:
            if not failure.permanent:
                reason = f"gave up after {attempts} attempts: {reason}"
            self._mark(entry, FAILED, reason, attempted=not failure.handed_over)
            self.report.failed.append((digest.subscriber.email, reason))
        else:
            self._mark(entry, PENDING, reason, attempted=not failure.handed_over)
            self.retries.append((digest, entry, payload, attempts))

    def _retry(self, smtp: SmtpConnection) -> None:
        """Transient refusals, again after a growing wait, until they pass or run out."""
        round_ = 0
        while self.retries:
            time.sleep(self._backoff(round_))
            waiting, self.retries = self.retries, []
            for digest, entry, payload, attempts in waiting:
                self.report.retried += 1
                self._send(smtp, digest, entry, payload, attempts)
            round_ += 1

    def _backoff(self, attempt: int) -> float:
        return self.settings.smtp_retry_delay * 2**attempt

    def _mark(
        self, entry: OutboxEntry, status: str, error: str | None = None, attempted: bool = True
    ) -> None:
        with self.store.transaction() as connection:
            mark(connection, entry.id, status, datetime.now(UTC), error, attempted)

    def _message_id(self, digest: Digest) -> str:
        label = f"{digest.period_key.replace(':', '-')}.{digest.subscriber.id}"
        return make_msgid(idstring=label, domain=self.sender.domain or "localhost")

    def _message(self, digest: Digest, message_id: str) -> bytes:
        links = subscription_links(self.settings, self.signer, digest.subscriber)
        return self.writer.digest(digest, message_id, links)

    def _write(self, digest: Digest, folder: Path) -> None:
        name = f"{digest.period_key.replace(':', '-')}-{digest.subscriber.id:06d}.eml"
        path = folder / name
        path.write_bytes(self._message(digest, self._message_id(digest)))
        self.report.written.append(path)
        self.report.sent += 1


def subscription_links(settings: Settings, signer: LinkSigner, subscriber: Subscriber) -> Links:
    base = settings.base_url.rstrip("/")
    payload = holder_payload(subscriber)
    return Links(
        site=base,
        unsubscribe=f"{base}/unsubscribe/{signer.make(UNSUBSCRIBE, payload)}",
        manage=f"{base}/subscription?token={signer.make(MANAGE, payload)}",
    )


def _chunks(items: Iterable[Digest], size: int) -> Iterator[list[Digest]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
