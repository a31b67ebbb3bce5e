"""The job kinds: plain functions over the layers below. Each is idempotent, so that a job
that a dead worker left half done is simply run again, and keeps no state between runs
but what it stores.

The pipeline, in order: `announcements` stores the day's listing feed and asks for
`enrich` of that day (metadata over OAI-PMH, then the arXiv API for what is still
missing), which asks for `index` (keyword index, then the embeddings split into `embed`
batches that any worker takes); `digests` waits for all of it. `backfill` chunks bring in
the history of a newly followed category; `hf-daily` the day's Hugging Face picks;
`for-you` fits a reader's model again after their library changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, partial
from hashlib import blake2b

from sqlalchemy import Connection, select

from dailypapers.clock import Clock
from dailypapers.config import Settings
from dailypapers.for_you import FIT_JOB, fit_reader
from dailypapers.ingest.bulk import ImportReport, store_records
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.harvest import HarvestRequest, harvest
from dailypapers.ingest.hf_daily import parse_daily_papers
from dailypapers.ingest.http import Fetcher, Unavailable
from dailypapers.ingest.lookup import fetch_papers
from dailypapers.ingest.rss import LISTED_KINDS, Feed, feed_url, parse_feed
from dailypapers.ingest.taxonomy import (
    check_follows,
    follows_paper,
    oai_set,
    split_follow_setting,
)
from dailypapers.jobs import queue
from dailypapers.jobs.schedule import (
    backoff,
    latest_announcement,
    listing_day,
    listing_day_of_submission,
    next_announcement,
)
from dailypapers.jobs.worker import Handler, JobContext, Outcome, RetryLater
from dailypapers.mail.delivery import DeliveryError, send_due_digests
from dailypapers.mail.replies import send_reply_mails
from dailypapers.mail.smtp import NOT_SET_UP, sends_mail
from dailypapers.models import Paper
from dailypapers.search.service import SearchService
from dailypapers.storage import Store
from dailypapers.storage.announcements import (
    feed_validators,
    save_feed_check,
    store_feed,
)
from dailypapers.storage.follows import followed, seed_follows
from dailypapers.storage.locks import exclusive
from dailypapers.storage.papers import as_date
from dailypapers.storage.ratelimit import forget_expired
from dailypapers.storage.schema import jobs, oai_marks, paper_listings, paper_versions
from dailypapers.storage.upserts import insert_for, upsert_papers

log = logging.getLogger(__name__)

ANNOUNCEMENTS = "announcements"
ENRICH = "enrich"
BACKFILL = "backfill"
INDEX = "index"
EMBED = "embed"
DIGESTS = "digests"
HF_DAILY = "hf-daily"
PRUNE = "prune"
REPLY_MAILS = "reply-mails"
PIPELINE = (ANNOUNCEMENTS, ENRICH, INDEX, EMBED)  # what the digests wait for
RECURRING = (ANNOUNCEMENTS, INDEX, DIGESTS, PRUNE, REPLY_MAILS)  # one row each, its key its kind
# `dailypapers update` runs these in turn, each until nothing of it is due.
UPDATE_STAGES = (
    (ANNOUNCEMENTS,),
    (ENRICH, HF_DAILY, BACKFILL),
    (INDEX,),
    (EMBED,),
    (DIGESTS, PRUNE, FIT_JOB),
)
UPDATE_KINDS = frozenset(kind for stage in UPDATE_STAGES for kind in stage)

TALK_TO_ARXIV = (ANNOUNCEMENTS, ENRICH, BACKFILL)
ARXIV_TURN = timedelta(seconds=30)  # a job that found arXiv taken tries again after this
CHECK_AFTER = timedelta(minutes=5)  # the first look at the feed after an announcement
WEEKEND_DAYS = 3  # a feed without items may be dated this many days past the last listing
INDEX_EVERY = timedelta(seconds=60)  # also catches papers that a command stored
DIGESTS_EVERY = timedelta(minutes=5)
REPLY_MAILS_EVERY = timedelta(minutes=2)
PRUNE_EVERY = timedelta(hours=1)
KEEP_DONE = timedelta(days=7)  # one-shot jobs stay on the jobs page this long
EMBED_BATCH = 256  # papers per embedding job: about 20 s on two cores
LOOKUP_AT_MOST = 200  # papers fetched by id from the arXiv API per day


@dataclass
class Site:
    """What the job kinds work with, made once per worker."""

    settings: Settings
    store: Store
    clock: Clock
    _search: SearchService | None = field(default=None, repr=False)

    @cached_property
    def fetcher(self) -> Fetcher:
        """Tries once: a job that arXiv turns away is put back for later (RetryLater), so
        that no worker sits out a Retry-After."""
        return Fetcher.for_site(self.settings, retries=0)

    @cached_property
    def search(self) -> SearchService:
        return self._search or SearchService(self.settings, self.store)

    def followed(self) -> list[str]:
        with self.store.read() as connection:
            return [follow.category for follow in followed(connection)]


def handlers(site: Site) -> dict[str, Handler]:
    kinds: dict[str, Callable[[Site, JobContext], Outcome]] = {
        ANNOUNCEMENTS: check_announcements,
        ENRICH: enrich_day,
        BACKFILL: backfill_chunk,
        INDEX: index_search,
        EMBED: embed_batch,
        DIGESTS: send_digests,
        HF_DAILY: import_hf_daily,
        PRUNE: prune,
        REPLY_MAILS: send_replies,
        FIT_JOB: fit_for_you,
    }
    chosen = {kind: partial(run, site) for kind, run in kinds.items()}
    for kind in TALK_TO_ARXIV:
        chosen[kind] = partial(_one_at_a_time, site, chosen[kind])
    return chosen


def _one_at_a_time(site: Site, run: Handler, job: JobContext) -> Outcome:
    """arXiv asks for one connection and a request every few seconds per site, not per
    process: the jobs that talk to it take turns, whichever worker or host runs them."""
    with exclusive(site.store, "arxiv") as held:
        if held:
            try:
                return run(job)
            except Unavailable as error:  # put back for as long as arXiv asks, not waited in line
                raise RetryLater(
                    str(error), backoff(job.job.attempts + 1, error.retry_after)
                ) from None
    return Outcome("another worker is talking to arXiv: taking turns", job.now() + ARXIV_TURN)


def seed_jobs(site: Site) -> None:
    """The recurring jobs and the setting's follows, made once (a no-op after that)."""
    now = site.clock.now()
    if names := check_follows(split_follow_setting(site.settings.follow)):
        with site.store.transaction() as connection:
            seed_follows(connection, names, now)
    with site.store.bookkeeping() as connection:
        for kind in RECURRING:
            queue.enqueue(connection, kind, kind, {}, now)


def make_due_now(store: Store, now: datetime, kinds: Sequence[str]) -> None:
    """`dailypapers update`: the recurring jobs of `kinds` run now, whatever their turn."""
    with store.bookkeeping() as connection:
        for kind in kinds:
            queue.schedule(connection, kind, kind, {}, now)


# --- announcements ------------------------------------------------------------------------


def expected_day(now: datetime) -> date:
    """The listing day of the latest announcement arXiv has made by `now`."""
    return listing_day(latest_announcement(now))


def check_announcements(site: Site, job: JobContext) -> Outcome:
    """Fetch the listing feed of what the site follows (a conditional GET) and store its day
    when it is not stored yet; until the feed shows the day of the latest announcement,
    look again, less and less often."""
    now = job.now()
    names = site.followed()
    if not names:
        return Outcome("nothing is followed", next_announcement(now) + CHECK_AFTER)
    url = feed_url(site.settings.arxiv_rss_url, names)
    with site.store.read() as connection:
        etag, modified, seen = feed_validators(connection, url) or (None, None, None)
    fetched = site.fetcher.fetch(url, etag=etag, last_modified=modified)
    expected = expected_day(now)
    result = "not modified"
    if fetched.content is not None:
        feed = parse_feed(fetched.content, url)
        _check_day(feed.day, bool(feed.items), expected, url)
        with site.store.transaction() as connection:  # the day and the work it brings
            result = _store_day(site, connection, feed, url, now)
            save_feed_check(connection, url, fetched.etag, fetched.last_modified, feed.day, now)
        seen = feed.day
    if seen is None or seen < expected:
        wait = _waiting(now)
        return Outcome(f"{result}; waiting for the feed of {expected}", now + wait)
    return Outcome(result, next_announcement(now) + CHECK_AFTER)


def _check_day(day: date, announces: bool, expected: date, url: str) -> None:
    """A feed of a day arXiv has not announced yet is wrong (a feed of a week-end day after
    the announcement, without items, is what arXiv serves then)."""
    if day > expected + (timedelta(days=WEEKEND_DAYS) if not announces else timedelta()):
        raise IngestError(
            f"{url}: the feed is for {day}, after the latest announcement's day "
            f"({expected}); is the clock right?"
        )


def _store_day(site: Site, connection: Connection, feed: Feed, url: str, now: datetime) -> str:
    """Store the feed's day, or what a stored day lacks of it (a category followed since),
    and ask for the work that follows, in the caller's transaction: a crash between the two
    cannot lose the work."""
    if not feed.items:
        return f"{feed.day}: no announcement"
    counts = store_feed(connection, feed, url, now)
    if counts.already_stored:
        added = _add_unlisted(connection, feed)
        if not added:
            return f"{feed.day}: already stored"
        result = f"{feed.day}: already stored; {added} papers of newly followed categories added"
    else:
        result = (
            f"{feed.day}: stored {counts.new} new, {counts.cross} cross-lists, "
            f"{counts.replaced} replacements"
        )
    day = feed.day.isoformat()
    payload = {"day": day, "ids": counts.unknown_replacements}
    queue.schedule(connection, ENRICH, f"{ENRICH}:{day}", payload, now)
    if site.settings.hf_daily:
        queue.enqueue(connection, HF_DAILY, f"{HF_DAILY}:{day}", {"day": day}, now)
    return result


def _add_unlisted(connection: Connection, feed: Feed) -> int:
    """The feed's new and cross-listed papers not yet on its (stored) day."""
    items = feed.of_kind(*LISTED_KINDS)
    listed = set(
        connection.scalars(
            select(paper_listings.c.paper_id).where(
                paper_listings.c.day == feed.day,
                paper_listings.c.paper_id.in_([item.paper.id for item in items]),
            )
        )
    )
    missing = [item.paper for item in items if item.paper.id not in listed]
    upsert_papers(connection, missing)
    return len(missing)


def _waiting(now: datetime) -> timedelta:
    """How long to wait for a feed that is late: a quarter of its lateness, 1 to 30 min."""
    late = now - latest_announcement(now)
    return min(max(late / 4, timedelta(minutes=1)), timedelta(minutes=30))


def digests_may_go(connection: Connection, now: datetime, settings: Settings) -> bool:
    """Whether the morning's digests have what they wait for: nothing followed, or the feed of
    the latest announcement seen and the work it brought done."""
    if not followed(connection):
        return True
    url = feed_url(settings.arxiv_rss_url, [f.category for f in followed(connection)])
    seen = (feed_validators(connection, url) or (None, None, None))[2]
    return (
        seen is not None
        and seen >= expected_day(now)
        and not _pending(connection, PIPELINE, now, since=latest_announcement(now))
    )


def _pending(connection: Connection, kinds: Sequence[str], now: datetime, since: datetime) -> bool:
    """Whether a job of `kinds` is running or due: a one-shot one made since `since` and not
    failing for good (its admins were told: it no longer holds the rest), or a recurring
    one (its key is its kind) whose turn has come."""
    one_shot = (
        (jobs.c.key != jobs.c.kind)
        & (jobs.c.created_at >= since.astimezone(UTC))
        & (jobs.c.attempts < queue.KEEPS_FAILING)
    )
    waiting = select(jobs.c.id).where(
        jobs.c.kind.in_(kinds),
        jobs.c.state.in_((queue.QUEUED, queue.RUNNING)),
        one_shot | ((jobs.c.key == jobs.c.kind) & (jobs.c.run_at <= now.astimezone(UTC))),
    )
    return connection.scalar(waiting.limit(1)) is not None


# --- metadata -----------------------------------------------------------------------------


def enrich_day(site: Site, job: JobContext) -> Outcome:
    """Metadata the feed lacks (version dates, DOI, journal-ref, comments): an incremental
    OAI-PMH harvest of each followed set, then the arXiv API for what is still missing."""
    day = date.fromisoformat(job.payload["day"])
    names = site.followed()
    harvested = 0
    for set_spec in sorted({oai_set(name) for name in names}):
        harvested += _harvest_set(site, set_spec, names, day - timedelta(days=1), job.now())
    looked_up = _look_up(site, day, job.payload.get("ids", []), job.now())
    job.schedule(INDEX, INDEX, {}, job.now())
    return Outcome(f"{day}: {harvested} from OAI-PMH, {looked_up} from the arXiv API")


def _harvest_set(site: Site, set_spec: str, names: list[str], first: date, now: datetime) -> int:
    with site.store.read() as connection:
        mark = connection.scalar(
            select(oai_marks.c.harvested_until).where(oai_marks.c.set_spec == set_spec)
        )
    start = min(as_date(mark) or first, first)
    request = HarvestRequest(site.settings.oai_url, "arXiv", from_date=start, set_spec=set_spec)
    keep = partial(_followed_papers, names, now)
    cursor = harvest(site.store, site.fetcher, request, keep=keep)
    with site.store.transaction() as connection:
        statement = insert_for(connection.dialect.name, oai_marks)
        values = {"harvested_until": now.astimezone(UTC).date(), "updated_at": now}
        connection.execute(
            statement.values(set_spec=set_spec, **values).on_conflict_do_update(
                index_elements=["set_spec"], set_=values
            )
        )
    return cursor.records


def _followed_papers(
    names: list[str], now: datetime, connection: Connection, papers: list[Paper]
) -> list[Paper]:
    """A harvested page's papers of the followed categories; one not stored yet (history, a
    missed day) goes on the listing day arXiv's schedule gives its first version."""
    kept = [paper for paper in papers if follows_paper(names, paper.categories)]
    return _with_days(connection, kept, now)


def _with_days(connection: Connection, papers: list[Paper], now: datetime) -> list[Paper]:
    """The papers, a day given to those not stored yet; those dated in the future dropped."""
    known = set(
        connection.scalars(
            select(paper_listings.c.paper_id).where(
                paper_listings.c.paper_id.in_([paper.id for paper in papers])
            )
        )
    )
    kept = []
    for paper in papers:
        first = paper.versions[0].created if paper.versions else None
        if first is not None and first > now + timedelta(days=1):
            log.warning("%s: first version dated %s, in the future: not stored", paper.id, first)
            continue
        if paper.id not in known and not paper.listed and first is not None:
            paper.listed = [listing_day_of_submission(first)]
        kept.append(paper)
    return kept


def _look_up(site: Site, day: date, ids: list[str], now: datetime) -> int:
    """Papers of `day` still without their first version's date, and the replacements of
    papers never stored, by id through the arXiv API."""
    with site.store.read() as connection:
        dated = select(paper_versions.c.paper_id).where(
            paper_versions.c.paper_id == paper_listings.c.paper_id,
            paper_versions.c.created.is_not(None),
        )
        undated = connection.scalars(
            select(paper_listings.c.paper_id).where(paper_listings.c.day == day, ~dated.exists())
        )
        wanted = sorted({*undated, *ids})[:LOOKUP_AT_MOST]
    if not wanted:
        return 0
    found = fetch_papers(site.fetcher, site.settings.arxiv_api_url, wanted)
    with site.store.transaction() as connection:
        upsert_papers(connection, _with_days(connection, found, now))
    return len(found)


# --- history ------------------------------------------------------------------------------


def plan_backfill(
    store: Store, names: Sequence[str], since: date, today: date, now: datetime
) -> int:
    """One `backfill` job per OAI-PMH set and month from `since` to `today`; how many new."""
    added = 0
    with store.bookkeeping() as connection:
        for set_spec in sorted({oai_set(name) for name in names}):
            first = since
            while first <= today:
                last = min(_month_end(first), today)
                key = f"{BACKFILL}:{set_spec}:{first}:{last}"
                payload = {"set": set_spec, "from": first.isoformat(), "until": last.isoformat()}
                added += queue.enqueue(connection, BACKFILL, key, payload, now)
                first = last + timedelta(days=1)
    return added


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def backfill_chunk(site: Site, job: JobContext) -> Outcome:
    """A month of a followed set's history; the harvest's cursor resumes a killed run."""
    request = HarvestRequest(
        site.settings.oai_url,
        "arXiv",
        from_date=date.fromisoformat(job.payload["from"]),
        until_date=date.fromisoformat(job.payload["until"]),
        set_spec=job.payload["set"],
    )
    names = [name for name in site.followed() if oai_set(name) == request.set_spec]
    keep = partial(_followed_papers, names, job.now())
    cursor = harvest(site.store, site.fetcher, request, keep=keep)
    job.schedule(INDEX, INDEX, {}, job.now())
    return Outcome(f"{cursor.records} records in {cursor.pages} pages")


# --- search -------------------------------------------------------------------------------


def index_search(site: Site, job: JobContext) -> Outcome:
    """The keyword index, then the embeddings, split into batches that any worker takes."""
    now = job.now()
    try:
        indexed = site.search.update_keywords()
    except BlockingIOError:  # `dailypapers index` is at it
        return Outcome("the keyword index is being written by another process", now + INDEX_EVERY)
    with site.store.read() as connection:
        embedding = _pending(connection, (EMBED,), now, since=datetime.min.replace(tzinfo=UTC))
    batches = [] if embedding else site.search.embedding_batches(EMBED_BATCH)
    for ids in batches:
        digest = blake2b("\n".join(ids).encode(), digest_size=8).hexdigest()
        job.enqueue(EMBED, f"{EMBED}:{ids[0]}:{len(ids)}:{digest}", {"ids": ids})
    return Outcome(
        f"{indexed} indexed by keyword, {len(batches)} embedding batches", now + INDEX_EVERY
    )


def embed_batch(site: Site, job: JobContext) -> Outcome:
    embedded = site.search.embed(job.payload["ids"])
    return Outcome(f"{embedded} embedded")


# --- mail ---------------------------------------------------------------------------------


def send_digests(site: Site, job: JobContext) -> Outcome:
    """The digests due now; while the morning's announcement is not in yet, only those whose
    hour is `digest_wait_hours` past (they go out with what there is)."""
    now = job.now()
    with site.store.read() as connection:
        ready = digests_may_go(connection, now, site.settings)
    # Late in the day, they go out that day all the same (the day's last hour at the latest).
    hour = min(site.settings.digest_hour + (0 if ready else site.settings.digest_wait_hours), 23)
    try:
        report = send_due_digests(site.store, site.settings, now, hour=hour)
    except DeliveryError as error:  # e.g. the SMTP server is down: the next turn resumes
        raise RetryLater(f"digests: {error}", DIGESTS_EVERY.total_seconds()) from None
    failed = "; ".join(f"{address}: {reason}" for address, reason in report.failed)
    waiting = "" if ready else " (the others wait for the day's announcement and its indexing)"
    result = f"{report.sent} sent{waiting}" + (f"; failed: {failed}" if failed else "")
    return Outcome(result, now + DIGESTS_EVERY)


def send_replies(site: Site, job: JobContext) -> Outcome:
    """Mail readers about the replies to their comments (mail/replies.py)."""
    now = job.now()
    if not sends_mail(site.settings):
        return Outcome(NOT_SET_UP, now + REPLY_MAILS_EVERY)
    report = send_reply_mails(site.store, site.settings, now)
    if report.stopped:  # the server cannot be reached: the next turn goes on
        raise RetryLater(f"reply mails: {report.stopped}", REPLY_MAILS_EVERY.total_seconds())
    failed = "; ".join(f"reply {reply}: {reason}" for reply, reason in report.failed)
    result = f"{report.sent} sent, {report.retrying} to retry, {report.skipped} not wanted"
    return Outcome(result + (f"; failed: {failed}" if failed else ""), now + REPLY_MAILS_EVERY)


def fit_for_you(site: Site, job: JobContext) -> Outcome:
    fitted = fit_reader(site.store, job.payload["user_id"], job.now())
    return Outcome("fitted" if fitted else "nothing to learn from yet")


# --- other sources and upkeep -------------------------------------------------------------


def import_hf_daily(site: Site, job: JobContext) -> Outcome:
    """The day's Hugging Face daily papers, with their upvotes, as `ingest hf-daily` does."""
    day = job.payload["day"]
    url = site.settings.hf_url
    data = site.fetcher.get(url, {"date": day})
    records, skips = parse_daily_papers(data, f"{url}?date={day}")
    report = ImportReport()
    report.skip(skips)
    store_records(site.store, records, site.settings.batch_size, report)
    return Outcome(f"{day}: {report.papers} papers, {len(skips)} skipped")


def prune(site: Site, job: JobContext) -> Outcome:
    """Rate-limit counts whose window has passed, and one-shot jobs done a week ago."""
    now = job.now()
    forget_expired(site.store, now.timestamp())
    with site.store.bookkeeping() as connection:
        gone = queue.delete_done(connection, now - KEEP_DONE)
    return Outcome(f"{gone} old jobs deleted", now + PRUNE_EVERY)
