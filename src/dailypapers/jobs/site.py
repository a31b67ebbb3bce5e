"""The site's worker: the job kinds over this site's settings and store, telling the admins
when a job keeps failing. `serve` runs one in a thread of its own (unless --no-worker);
`dailypapers worker` runs one as its process; `dailypapers update` runs what is due."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from dailypapers.clock import Clock, clock_of
from dailypapers.config import Settings
from dailypapers.jobs.kinds import Site, handlers, seed_jobs
from dailypapers.jobs.queue import JobRow
from dailypapers.jobs.worker import Worker
from dailypapers.mail.render import MailWriter, sender_address
from dailypapers.mail.smtp import SmtpConnection
from dailypapers.search.service import SearchService
from dailypapers.storage import Store, open_store
from dailypapers.storage.schema import users

log = logging.getLogger(__name__)
WORKER_ALIVE_S = 120.0  # a worker whose heart beat this recently is alive


def site_worker(
    settings: Settings,
    store: Store,
    clock: Clock | None = None,
    kinds: tuple[str, ...] | None = None,
    search: SearchService | None = None,
) -> Worker:
    """A worker for the site's jobs (of `kinds` only, when given), its recurring jobs seeded."""
    site = Site(settings, store, clock or clock_of(settings), search)
    seed_jobs(site)
    chosen = handlers(site)
    if kinds is not None:
        chosen = {kind: handler for kind, handler in chosen.items() if kind in kinds}
    return Worker(
        store,
        site.clock,
        chosen,
        lease_s=settings.job_lease,
        device=settings.device,
        on_keeps_failing=lambda job: alert_admins(settings, store, site.clock, job),
    )


@contextmanager
def worker_thread(settings: Settings) -> Iterator[Worker]:
    """The site's worker in a thread of this process, over a store of its own. Stopping, it
    waits `shutdown_timeout` for the job running then; one cut off is claimed again when its
    lease runs out."""
    store = open_store(settings.database_url)
    worker = site_worker(settings, store)

    def run() -> None:
        lower_priority(settings.job_niceness, this_thread_only=True)
        worker.run_forever()

    thread = threading.Thread(target=run, name="dailypapers-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(settings.shutdown_timeout)
        store.close()


def lower_priority(niceness: int, this_thread_only: bool = False) -> None:
    """Run at `niceness` more than now, so that requests go first: the whole process, or
    only the calling thread (and the threads it starts then, as the encoder's), which
    Linux alone can do (elsewhere a thread stays as it is)."""
    if niceness == 0:
        return
    if not this_thread_only:
        os.nice(niceness)
    elif sys.platform == "linux":
        thread = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(now + niceness, 19))


def admin_addresses(store: Store, settings: Settings) -> list[str]:
    """`contact_email` and the confirmed addresses of the admins."""
    with store.read() as connection:
        confirmed = connection.scalars(
            select(users.c.email).where(
                users.c.is_admin.is_(True),
                users.c.banned.is_(False),
                users.c.email.is_not(None),
                users.c.email_confirmed_at.is_not(None),
            )
        )
        found = [settings.contact_email, *confirmed]
    return list(dict.fromkeys(address for address in found if address))


def alert_admins(settings: Settings, store: Store, clock: Clock, job: JobRow) -> None:
    """One mail to each admin about a job that keeps failing."""
    addresses = admin_addresses(store, settings)
    if not addresses:
        log.warning("job %s keeps failing and no admin has an address to tell", job.key)
        return
    sender = sender_address(settings.mail_from)
    writer = MailWriter(sender, clock.now())
    context = {
        "key": job.key,
        "attempts": job.attempts,
        "site": settings.base_url,
        "error": job.last_error or "",
        "last_try": f"{job.last_finished or job.last_started:%Y-%m-%d %H:%M UTC}",
        "next_try": f"{job.run_at:%Y-%m-%d %H:%M UTC}",
        "jobs_link": settings.base_url.rstrip("/") + "/admin/jobs",
    }
    with SmtpConnection(settings) as smtp:
        for address in addresses:
            message = writer.job_alert(address, context)
            smtp.send(sender.addr_spec, address, message, handed_over=lambda: None)
