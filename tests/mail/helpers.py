"""What the mail tests share: a small feed of papers over two days, confirmed subscribers,
settings that mail through a test SMTP server, and a digest's two parts as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage

from click.testing import Result

from dailypapers.config import Settings
from dailypapers.mail.subscriptions import Choices, add_confirmed
from dailypapers.models import Subscriber
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.smtp_server import Mailbox

Run = Callable[..., Result]  # the `dailypapers` fixture: the CLI in-process
DAY = date(2026, 7, 1)  # a Wednesday
DAY_BEFORE = date(2026, 6, 30)
DAY_MOMENT = datetime(2026, 7, 1, 12, tzinfo=UTC)
# name: (title, categories, feed day)
FEED = {
    "diffusion": ("Diffusion models for protein design", ["cs.LG", "q-bio.BM"], DAY),
    "attention": ("Sparse attention for long documents", ["cs.CL"], DAY),
    "robots": ("Robot grasping with tactile sensing", ["cs.RO"], DAY),
    "graphs": ("Graph networks for molecules", ["cs.LG"], DAY),
    "older": ("Diffusion transformers at scale", ["cs.CV"], DAY_BEFORE),
}


def mail_settings_for(mailbox: Mailbox, **overrides: object) -> Settings:
    given = {k.removeprefix("DAILYPAPERS_").lower(): v for k, v in mailbox.environment.items()}
    return Settings(**{**given, **overrides})


def store_feed(store: Store) -> dict[str, str]:
    """Store the papers of FEED; their ids by name."""
    papers = {
        name: make_paper(
            title=title,
            abstract=f"{title}. " + "We show it works on every benchmark we tried. " * 6,
            categories=categories,
            listed=[day],
        )
        for name, (title, categories, day) in FEED.items()
    }
    with store.transaction() as connection:
        upsert_papers(connection, list(papers.values()))
    return {name: paper.id for name, paper in papers.items()}


def subscribe(
    store: Store, email: str, *categories: str, searches: tuple[str, ...] = (), **choices: str
) -> Subscriber:
    """A confirmed subscriber, as `dailypapers subscriber add` makes one."""
    picked = Choices(categories=categories, **choices)  # type: ignore[arg-type]
    return add_confirmed(store, email, picked, searches, datetime.now(UTC))


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """A digest's two parts, with the line endings of the page rather than of the wire."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return tuple(part.get_content().replace("\r\n", "\n") for part in (text, html))  # type: ignore[return-value]
