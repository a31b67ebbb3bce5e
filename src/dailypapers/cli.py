"""The `dailypapers` command: thin wrappers over the library, each with help text."""

from __future__ import annotations

import dataclasses
import gzip
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from dailypapers.accounts import (
    AccountError,
    create_api_token,
    find_user,
    revoke_api_token,
    set_admin,
    set_banned,
    set_password,
    sign_up,
)
from dailypapers.clock import Clock, clock_of
from dailypapers.config import Settings, base_url_warning
from dailypapers.for_you import (
    fit_library,
    library_of_ids,
    period_candidates,
    reader_library,
    reader_model,
    recommend,
)
from dailypapers.ingest.bulk import ImportReport, RecordParser, import_json_lines, store_records
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.harvest import FORMATS, HarvestRequest, harvest
from dailypapers.ingest.hf_daily import read_daily_papers
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.jsonl import paper_from_json, paper_to_json
from dailypapers.ingest.lookup import fetch_papers, ingest_ids
from dailypapers.ingest.snapshot import paper_from_snapshot
from dailypapers.ingest.taxonomy import check_follows, split_follow_setting
from dailypapers.jobs.kinds import (
    BACKFILL,
    RECURRING,
    UPDATE_KINDS,
    UPDATE_STAGES,
    make_due_now,
    plan_backfill,
)
from dailypapers.jobs.queue import JobRow, list_jobs, workers_alive
from dailypapers.jobs.site import WORKER_ALIVE_S, lower_priority, site_worker, worker_thread
from dailypapers.jobs.worker import stop_on_signals
from dailypapers.library.formats import LibraryFormatError, parse_library
from dailypapers.library.transfer import (
    DEFAULT_TAG,
    EXPORT_FORMATS,
    LibraryError,
    checked_tag,
    export_library,
    import_library,
    read_library,
)
from dailypapers.mail.delivery import DeliveryError, DeliveryReport, send_digests
from dailypapers.mail.render import AddressSettingError
from dailypapers.mail.subscriptions import (
    FREQUENCIES,
    SubscriptionError,
    add_confirmed,
    check_choices,
    normalise_address,
    remove_subscriber,
)
from dailypapers.search.evaluate import BeirError, evaluate_folder
from dailypapers.search.query import QueryError
from dailypapers.search.service import MODES, IndexProgress, SearchService
from dailypapers.storage import Store, StoreError, open_store
from dailypapers.storage.cursors import HarvestCursor
from dailypapers.storage.feed import latest_day
from dailypapers.storage.follows import add_follows, followed, remove_follows
from dailypapers.storage.outbox import latest_deliveries
from dailypapers.storage.papers import get_papers, get_submissions, iter_paper_batches, stats
from dailypapers.storage.readers import remembered_categories
from dailypapers.storage.subscriptions import list_subscribers
from dailypapers.storage.users import api_tokens_of, list_users

app = typer.Typer(
    help="dailypapers: a self-hosted daily feed of research papers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Bring papers in from arXiv and other sources.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
user_app = typer.Typer(
    help="Accounts: add users, list them, make admins, ban, make API tokens.", no_args_is_help=True
)
subscriber_app = typer.Typer(
    help="Digest subscribers: add (confirmed at once), list, remove.", no_args_is_help=True
)
digest_app = typer.Typer(help="Digests by mail.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure search quality.", no_args_is_help=True)
library_app = typer.Typer(help="A reader's saved papers: import and export.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(subscriber_app, name="subscriber")
app.add_typer(digest_app, name="digest")
app.add_typer(eval_app, name="eval")
app.add_typer(library_app, name="library")

err = Console(stderr=True, soft_wrap=True, highlight=False)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory (env DAILYPAPERS_DATA_DIR).", show_default=False
    ),
]
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL, sqlite:///FILE or postgresql://… (env DAILYPAPERS_DB).",
        show_default=False,
    ),
]
Strict = Annotated[
    bool, typer.Option("--strict", help="Fail on the first malformed record instead of skipping.")
]
InputFile = Annotated[
    Path, typer.Argument(help="File to read; .gz is decompressed.", show_default=False)
]


def _settings(data_dir: Path | None, db: str | None, **overrides: Any) -> Settings:
    given = {"data_dir": data_dir, "db": db, **overrides}
    return Settings(**{key: value for key, value in given.items() if value is not None})


def _warn_about_base_url(settings: Settings, mails: bool | None = None) -> None:
    if warning := base_url_warning(settings, mails):
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}")


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings.database_url)
    try:
        yield store
    finally:
        store.close()


class PerSecond(ProgressColumn):
    """How many `unit` so far (the task's field of that name, e.g. papers=…) and per second."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        count = task.fields.get(self.unit, 0)
        elapsed = task.elapsed or 0
        rate = f"{count / elapsed:,.0f} {self.unit}/s" if elapsed > 0 else f"- {self.unit}/s"
        return Text(f"{count:,} {self.unit}  {rate}", style="cyan")


def _progress(unit: str = "papers") -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        PerSecond(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _fail(message: str, status: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(status)


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Turn our errors into one line on stderr and exit status 1."""
    try:
        yield
    except (
        IngestError,
        StoreError,
        AccountError,
        SubscriptionError,
        DeliveryError,
        AddressSettingError,
        QueryError,
        BeirError,
        LibraryError,
        LibraryFormatError,
    ) as error:
        raise _fail(str(error)) from None
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        raise _fail(f"{where}{error.strerror or error}") from None
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise _fail(f"database error: {str(cause).splitlines()[0]}") from None
    except KeyboardInterrupt:
        message = "interrupted; what was stored stays stored: rerun the same command to go on"
        raise _fail(message, status=130) from None


def _report(report: ImportReport, what: str) -> None:
    err.print(f"stored {report.papers:,} papers from {escape(what)}")
    if report.skipped:
        err.print(f"[yellow]skipped {report.skipped:,} malformed records:[/yellow]")
        for reason in report.skip_reasons:
            err.print(f"  {escape(reason)}")


def _import_file(
    path: Path, parse: RecordParser, data_dir: Path | None, db: str | None, strict: bool
) -> None:
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store, _progress() as progress:
        task = progress.add_task(path.name, total=None, papers=0, visible=False)

        def advance(read: int, size: int, papers: int) -> None:
            progress.update(task, completed=read, total=size, papers=papers, visible=True)

        report = import_json_lines(
            store, path, parse, batch_size=settings.batch_size, strict=strict, progress=advance
        )
    _report(report, str(path))


@ingest_app.command("snapshot")
def ingest_snapshot(
    file: InputFile, strict: Strict = False, data_dir: DataDir = None, db: DbUrl = None
) -> None:
    """Import arXiv's bulk metadata snapshot (JSON lines, streamed; the 2.7M-record file fits)."""
    _import_file(file, paper_from_snapshot, data_dir, db, strict)


@ingest_app.command("jsonl")
def ingest_jsonl(
    file: InputFile, strict: Strict = False, data_dir: DataDir = None, db: DbUrl = None
) -> None:
    """Import our own JSON-lines paper format, as written by `dailypapers export`."""
    _import_file(file, paper_from_json, data_dir, db, strict)


@ingest_app.command("hf-daily")
def ingest_hf_daily(file: InputFile, data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Import a Hugging Face /api/daily_papers response: papers, upvotes, submitters, days."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        records, skips = read_daily_papers(file)
        report = ImportReport()
        report.skip(skips)
        store_records(store, records, settings.batch_size, report)
    _report(report, str(file))


@ingest_app.command("arxiv")
def ingest_arxiv(
    ids: Annotated[
        list[str],
        typer.Argument(help="arXiv ids or URLs: 2401.12345, 2401.12345v2, hep-th/9901001, …"),
    ],
    url: Annotated[str | None, typer.Option(help="arXiv query API endpoint.")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Fetch single papers by id from the arXiv query API."""
    settings = _settings(data_dir, db, arxiv_api_url=url)
    with _reported_errors(), _store(settings) as store:
        papers = ingest_ids(store, _fetcher(settings), settings.arxiv_api_url, ids)
    for paper in papers:
        err.print(f"stored {paper.id}: {escape(paper.title or '')}")


def _fetcher(settings: Settings) -> Fetcher:
    return Fetcher.for_site(settings)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2024-01-31") from None


@ingest_app.command("oai")
def ingest_oai(
    from_: Annotated[
        str | None, typer.Option("--from", help="First datestamp, YYYY-MM-DD.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last datestamp, YYYY-MM-DD.")] = None,
    set_: Annotated[
        str | None, typer.Option("--set", help="OAI set, e.g. cs or physics:hep-th.")
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help=f"Metadata format: {', '.join(FORMATS)}.")
    ] = "arXiv",
    url: Annotated[str | None, typer.Option(help="OAI-PMH endpoint.")] = None,
    delay: Annotated[float | None, typer.Option(help="Seconds between requests.")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Harvest arXiv over OAI-PMH; an interrupted harvest resumes where it stopped."""
    settings = _settings(data_dir, db, oai_url=url, polite_delay=delay)
    request = HarvestRequest(settings.oai_url, format_, _day(from_), _day(until), set_)
    with (
        _reported_errors(),
        _store(settings) as store,
        _progress() as progress,
    ):
        task = progress.add_task("OAI-PMH", total=None, papers=0, visible=False)

        def on_page(cursor: HarvestCursor) -> None:
            done, total = cursor.records, cursor.complete_list_size
            progress.update(task, completed=done, total=total, papers=done, visible=True)

        cursor = harvest(store, _fetcher(settings), request, on_page)
    err.print(f"harvest complete: {cursor.records:,} records in {cursor.pages} pages")


@app.command("export")
def export(
    file: Annotated[
        Path | None, typer.Argument(help="Output file (.gz compresses); default stdout.")
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Write every paper as JSON lines, the format `ingest jsonl` reads back losslessly."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store, _output(file) as out, store.read() as c:
        for batch in iter_paper_batches(c):
            submitted = get_submissions(c, [paper.id for paper in batch])
            for paper in batch:
                out.write(orjson.dumps(paper_to_json(paper, submitted.get(paper.id))) + b"\n")


@contextmanager
def _output(file: Path | None) -> Iterator[IO[bytes]]:
    if file is None:
        yield sys.stdout.buffer
        return
    opener: Callable[..., IO[bytes]] = gzip.open if file.suffix == ".gz" else open
    with opener(file, "wb") as out:
        yield out


@app.command("stats")
def show_stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Counts of papers, listing days and categories."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store, store.read() as connection:
        numbers = stats(connection)
    if as_json:
        typer.echo(orjson.dumps(numbers.as_dict()).decode())
        return
    for key, value in numbers.as_dict().items():
        typer.echo(f"{key}: {value}")


Device = Annotated[
    str | None,
    typer.Option(
        help="Where the encoder runs: cpu, or a torch device such as cuda (env DAILYPAPERS_DEVICE)."
    ),
]


class _IndexBars(IndexProgress):
    """One progress bar per indexing stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, stage: str, total: int) -> None:
        self.task = self.progress.add_task(stage, total=total, papers=0)

    def advance(self, done: int) -> None:
        papers = self.progress.tasks[self.task].fields["papers"] + done
        self.progress.update(self.task, advance=done, papers=papers)


@app.command("index")
def index(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the index files from the database.")
    ] = False,
    device: Device = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Bring the search indexes up to date: keyword index, embeddings of new or changed papers
    (the long part: a progress bar with ETA; stop at any time and rerun to go on)."""
    settings = _settings(data_dir, db, device=device)
    with _reported_errors(), _store(settings) as store, _progress() as progress:
        report = SearchService(settings, store).update_indexes(rebuild, _IndexBars(progress))
    err.print(f"indexed {report.keyword:,} papers by keyword, embedded {report.embedded:,}")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", author:, cat:, after:, before:.')],
    mode: Annotated[str, typer.Option(help="hybrid, keyword or semantic.")] = "hybrid",
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Search the papers, best first."""
    if mode not in MODES:
        raise typer.BadParameter(f"{mode!r}: use one of {', '.join(MODES)}", param_hint="--mode")
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        service = SearchService(settings, store)
        results = service.search(query, mode, limit)  # type: ignore[arg-type]
        with store.read() as connection:
            found = {p.id: p for p in get_papers(connection, [h.paper_id for h in results.hits])}
    rows = [
        {
            "id": hit.paper_id,
            "title": found[hit.paper_id].title,
            "authors": found[hit.paper_id].authors,
            "date": str(found[hit.paper_id].announced or ""),
            "score": round(hit.score, 4),
        }
        for hit in results.hits
        if hit.paper_id in found
    ]
    if as_json:
        typer.echo(orjson.dumps({"total": results.total, "results": rows}).decode())
        return
    for row in rows:
        typer.echo(f"{row['score']:.3f}  {row['id']}  {row['date']}  {row['title']}")
    err.print(f"{results.total:,} found")


@eval_app.command("beir")
def eval_beir(
    folder: Annotated[Path, typer.Argument(help="corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")],
    split: Annotated[str, typer.Option(help="The qrels file to score against.")] = "test",
    mode: Annotated[
        list[str] | None,
        typer.Option(help="hybrid, keyword or semantic; repeatable (default: all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    device: Device = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Measure search quality on a benchmark in BEIR layout: nDCG@10 and Recall@100, computed
    as trec_eval does, over a store indexed the normal way: a temporary SQLite one, or the
    (empty) one that --data-dir or --db names, e.g. to measure PostgreSQL's search."""
    modes = mode or list(MODES)
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise typer.BadParameter(f"{unknown[0]!r}: use {', '.join(MODES)}", param_hint="--mode")
    with _reported_errors(), tempfile.TemporaryDirectory() as scratch, _progress() as progress:
        settings = _settings(data_dir or Path(scratch), db, device=device)
        results = evaluate_folder(folder, split, modes, settings, _IndexBars(progress))
    if as_json:
        typer.echo(orjson.dumps(results).decode())
        return
    for name, scores in results.items():
        typer.echo(
            f"{name:9} nDCG@10 {scores['ndcg@10']:.4f}  Recall@100 {scores['recall@100']:.4f}"
            f"  ({scores['queries']} queries)"
        )


@db_app.command("migrate")
def db_migrate(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Bring the database schema to the newest version (safe to run twice)."""
    settings = _settings(data_dir, db)
    with _reported_errors():
        store = open_store(settings.database_url, migrate=False)
        try:
            store.migrate()
        finally:
            store.close()
    err.print(f"{store.url} is up to date")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Copy the SQLite database while it is in use (SQLite's online backup)."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        store.backup(file)
    err.print(f"backed up to {escape(str(file))}")


Username = Annotated[str, typer.Argument(help="The user's name (case does not matter).")]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: Username,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin's first line."),
    ] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Add a user; asks for the password twice unless --password-stdin."""
    settings = _settings(data_dir, db)
    password = _read_password(password_stdin)
    with _reported_errors(), _store(settings) as store:
        user = sign_up(store, username, password, is_admin=admin)
    err.print(f"added {'admin ' if user.is_admin else ''}{escape(user.username)}")


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Every user, oldest first, with whether they are admins or banned."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store, store.read() as connection:
        users = list_users(connection)
    rows = [
        {
            "username": u.username,
            "is_admin": u.is_admin,
            "banned": u.banned,
            "created_at": u.created_at.isoformat() if u.created_at else None,
        }
        for u in users
    ]
    if as_json:
        typer.echo(orjson.dumps(rows).decode())
        return
    for row in rows:
        flags = [flag for flag in ("is_admin", "banned") if row[flag]]
        typer.echo(f"{row['username']}\t{row['created_at']}\t{' '.join(flags)}".rstrip())


@user_app.command("set-admin")
def user_set_admin(
    username: Username,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take admin rights away.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Make a user an admin (or, with --revoke, no longer one)."""
    with _reported_errors(), _store(_settings(data_dir, db)) as store:
        user = set_admin(store, username, not revoke)
    err.print(f"{escape(user.username)} is {'now' if user.is_admin else 'no longer'} an admin")


@user_app.command("ban")
def user_ban(
    username: Username,
    revoke: Annotated[bool, typer.Option("--revoke", help="Lift the ban.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Ban a user: their sessions and API tokens stop working (--revoke lifts the ban)."""
    with _reported_errors(), _store(_settings(data_dir, db)) as store:
        user = set_banned(store, username, not revoke)
    err.print(f"{escape(user.username)} is {'banned' if user.banned else 'no longer banned'}")


@user_app.command("token")
def user_token(
    username: Username,
    name: Annotated[
        str,
        typer.Option(help="What the token is for, shown on the account page; one per name."),
    ] = "cli",
    list_them: Annotated[
        bool, typer.Option("--list", help="List the user's tokens (name, made) instead.")
    ] = False,
    revoke: Annotated[
        str | None, typer.Option("--revoke", metavar="NAME", help="Revoke the token NAME.")
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Make an API token for a user and print it (it is shown this once; only its hash is
    kept); or list their tokens, or revoke one by name."""
    with _reported_errors(), _store(_settings(data_dir, db)) as store:
        with store.read() as connection:
            user = find_user(connection, username)
            tokens = api_tokens_of(connection, user.id)
        if list_them:
            for token_name, made in tokens:
                typer.echo(f"{token_name}\t{made.isoformat()}")
        elif revoke is not None:
            revoke_api_token(store, user, revoke)
            err.print(f"revoked {escape(user.username)}'s token {escape(revoke.strip())}")
        else:
            typer.echo(create_api_token(store, user, name))


@user_app.command("set-password")
def user_set_password(
    username: Username,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin's first line."),
    ] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Set a user's password (asks twice unless --password-stdin): every session of theirs
    ends and every API token is revoked."""
    settings = _settings(data_dir, db)
    password = _read_password(password_stdin)
    with _reported_errors(), _store(settings) as store:
        user = set_password(store, username, password)
    err.print(f"set {escape(user.username)}'s password; their sessions and tokens are gone")


@app.command("serve")
def serve(
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Load the bundled sample of papers into an empty database."),
    ] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes, each with its own app and database pool.")
    ] = 1,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Run no jobs here: `dailypapers worker` processes run them (PostgreSQL).",
        ),
    ] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Serve the site and, unless --no-worker, run its jobs in one thread beside it (X-Forwarded-*
    are believed only from DAILYPAPERS_TRUSTED_PROXIES)."""
    from dailypapers.demo import load_demo_if_empty, load_demo_votes
    from dailypapers.web.server import serve_site

    settings = _settings(data_dir, db, host=host, port=port)
    _warn_about_base_url(settings)
    with _reported_errors(), _store(settings) as store:  # migrate once, before any worker starts
        if demo and (report := load_demo_if_empty(store)):
            cast = load_demo_votes(store, datetime.now(UTC))
            err.print(f"loaded {report.papers:,} demo papers and {cast:,} sample votes")
    err.print(f"serving {store.url} on http://{settings.host}:{settings.port}/")
    if no_worker:
        serve_site(settings, workers)
        return
    # In this process only, however many web workers serve; a bad DAILYPAPERS_FOLLOW is one line.
    with _reported_errors(), worker_thread(settings):
        serve_site(settings, workers)


@app.command("worker")
def worker(
    device: Annotated[
        str | None,
        typer.Option(help="Where embeddings are computed: cpu, or a torch device (cuda)."),
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Run the site's jobs as they come due, beside other workers on other hosts, until
    SIGTERM or Ctrl-C (the job running then ends first, or another worker takes it over)."""
    settings = _settings(data_dir, db, device=device)
    _warn_about_base_url(settings)
    with _reported_errors(), _store(settings) as store:
        running = site_worker(settings, store)
        stop_on_signals(running)
        lower_priority(settings.job_niceness)
        err.print(f"worker {escape(running.id)} on {store.url}")
        running.run_forever()


@app.command("update")
def update(data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Run everything that is due now, once, then exit (for cron): look at arXiv's listing
    feed, store an announcement day not stored yet, bring in its metadata, index it, send
    the digests that are due. Run twice, the second does nothing."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        clock = clock_of(settings)
        started = clock.now()
        for stage in UPDATE_STAGES:
            make_due_now(store, clock.now(), [kind for kind in stage if kind in RECURRING])
            site_worker(settings, store, clock, kinds=stage).run_until_idle()
        with store.read() as connection:
            listed = list_jobs(connection)
    ran = [job for job in listed if _ran_since(job, started)]
    for job in sorted(ran, key=lambda job: job.last_started or started):
        line = f"{job.key}: {job.last_error or job.last_result or job.state}"
        err.print(f"[red]{escape(line)}[/red]" if job.last_error else escape(line))
    # Our workers are done: a job still running is another's, alive or killed (its lease
    # then runs out and the next run does it).
    held = [job for job in listed if job.state == "running" and job.kind in UPDATE_KINDS]
    for job in held:
        until = _when(job.lease_until)
        err.print(f"[yellow]{escape(f'{job.key}: held by {job.worker_id} until {until}')}[/yellow]")
    if any(job.last_error for job in ran) or held:
        raise typer.Exit(1)


def _ran_since(job: JobRow, moment: datetime) -> bool:
    return job.last_started is not None and job.last_started >= moment


@app.command("follow")
def follow(
    categories: Annotated[
        list[str] | None,
        typer.Argument(
            help="Categories or whole archives: cs.LG cs.CL, hep-th, cs.", show_default=False
        ),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Stop following them.")] = False,
    since: Annotated[
        str | None,
        typer.Option(help="Also bring in their history from this day (YYYY-MM-DD), here, now."),
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Follow arXiv categories (the announcement feed and OAI-PMH keep them current), stop
    following them (--remove), or list what is followed (no arguments). With --since, the
    history is harvested here with progress; stopped, a rerun resumes it."""
    settings = _settings(data_dir, db)
    first = _day(since)
    with _reported_errors(), _store(settings) as store:
        clock = clock_of(settings)
        names = check_follows(split_follow_setting(" ".join(categories or [])))
        with store.transaction() as connection:
            if remove:
                gone = remove_follows(connection, names, clock.now())
                err.print(f"stopped following {', '.join(gone) or 'nothing'}")
            elif names:
                add_follows(connection, names, clock.now(), since=first)
                err.print(f"following {', '.join(names)}")
            for chosen in followed(connection):
                since_text = f" (history from {chosen.since})" if chosen.since else ""
                print(f"{chosen.category}{since_text}")
        if first is not None and names and not remove:
            _backfill(settings, store, clock, names, first)


def _backfill(
    settings: Settings, store: Store, clock: Clock, names: list[str], since: date
) -> None:
    now = clock.now()
    plan_backfill(store, names, since, now.date(), now)
    running = site_worker(settings, store, clock, kinds=(BACKFILL,))
    with store.read() as connection:
        chunks = [job for job in list_jobs(connection) if job.kind == BACKFILL]
    left = [job for job in chunks if job.state != "done"]
    done = len(chunks) - len(left)
    with _progress("months") as progress:
        task = progress.add_task("history", total=len(chunks), completed=done)
        while running.run_once():
            done += 1
            progress.update(task, completed=done, months=done)
    running.leave()
    with store.read() as connection:
        unfinished = [
            job for job in list_jobs(connection) if job.kind == BACKFILL and job.state != "done"
        ]
    for job in unfinished:
        err.print(
            f"[yellow]{escape(job.key)}: {escape(job.last_error or 'held by a worker')}[/yellow]"
        )
    if unfinished:
        raise _fail(f"{len(unfinished)} months of history are not in yet: rerun to go on")


@app.command("jobs")
def jobs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """The site's jobs (last run, duration, result or error, next run) and the workers alive."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        now = clock_of(settings).now()
        with store.read() as connection:
            rows = list_jobs(connection)
            alive = workers_alive(connection, now, WORKER_ALIVE_S)
    if as_json:
        data = {
            "jobs": [dataclasses.asdict(row) for row in rows],
            "workers": [dataclasses.asdict(w) for w in alive],
        }
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("job", "state", "last run", "took", "result or error", "next run", box=None)
    for row in rows:
        took = f"{row.last_duration:.1f} s" if row.last_duration is not None else ""
        outcome = (
            Text(row.last_error or "", style="red")
            if row.last_error
            else Text(row.last_result or "")
        )
        table.add_row(row.key, row.state, _when(row.last_started), took, outcome, _when(row.run_at))
    Console(soft_wrap=False).print(table)
    for alive_worker in alive:
        seen = _when(alive_worker.heartbeat_at)
        print(f"worker {alive_worker.id} ({alive_worker.device}), seen {seen}")
    if not alive:
        print("no worker alive")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""


Email = Annotated[str, typer.Argument(help="The subscriber's address.", show_default=False)]


@subscriber_app.command("add")
def subscriber_add(
    email: Email,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="A category to follow, e.g. cs.LG; repeat for more."),
    ] = None,
    search: Annotated[
        list[str] | None,
        typer.Option("--search", help='A saved search, e.g. "diffusion cat:cs.CV"; repeatable.'),
    ] = None,
    weekly: Annotated[bool, typer.Option("--weekly", help="Weekly instead of daily.")] = False,
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="IANA time zone of the digest hour.")
    ] = "UTC",
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Subscribe an address, confirmed at once (no confirmation mail); an existing subscriber
    gets these choices, and the searches are added to theirs."""
    settings = _settings(data_dir, db)
    frequency = "weekly" if weekly else "daily"
    with _reported_errors(), _store(settings) as store:
        address = normalise_address(email)
        with store.read() as connection:
            choices = check_choices(connection, frequency, category or [], time_zone)
        subscriber = add_confirmed(store, address, choices, search or [], datetime.now(UTC))
    following = ", ".join(subscriber.categories) or "all categories"
    err.print(f"subscribed {escape(subscriber.email)}: {frequency}, {escape(following)}")


@subscriber_app.command("list")
def subscriber_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Every subscriber, with their state, choices and last digest (a failed one with the
    SMTP server's reply)."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store, store.read() as connection:
        subscribers = list_subscribers(connection)
        deliveries = latest_deliveries(connection)
    rows = []
    for s in subscribers:
        last = deliveries.get(s.id)
        state = "active" if s.active else "unsubscribed" if s.unsubscribed_at else "unconfirmed"
        rows.append(
            {
                "email": s.email,
                "state": state,
                "frequency": s.frequency,
                "time_zone": s.time_zone,
                "categories": s.categories,
                "searches": [saved.query for saved in s.searches],
                "last_digest": last.period_key if last else None,
                "last_status": last.status if last else None,
                "last_error": last.last_error if last else None,
            }
        )
    if as_json:
        typer.echo(orjson.dumps(rows).decode())
        return
    for row in rows:
        delivery = f"{row['last_digest']} {row['last_status']}" if row["last_digest"] else "-"
        following = ",".join(row["categories"]) or "all"
        line = f"{row['email']}\t{row['state']}\t{row['frequency']}\t{following}\t{delivery}"
        typer.echo(line + (f"\t{row['last_error']}" if row["last_error"] else ""))


@subscriber_app.command("remove")
def subscriber_remove(email: Email, data_dir: DataDir = None, db: DbUrl = None) -> None:
    """Forget a subscriber: their choices, saved searches and outbox rows."""
    with _reported_errors(), _store(_settings(data_dir, db)) as store:
        address = normalise_address(email)
        remove_subscriber(store, address)
    err.print(f"removed {escape(address)}")


@digest_app.command("send")
def digest_send(
    period: Annotated[
        str, typer.Option("--period", help="Which subscribers: daily or weekly.")
    ] = "daily",
    date_: Annotated[
        str | None,
        typer.Option("--date", help="Day of the digests (default: today, in each time zone)."),
    ] = None,
    dry_run: Annotated[
        Path | None, typer.Option("--dry-run", help="Write .eml files to this folder instead.")
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Mail each subscriber the digest of the period, at most once: a rerun (after a crash,
    kill -9 or an unreachable server) sends only what is left."""
    if period not in FREQUENCIES:
        raise typer.BadParameter(f"{period!r} is not daily or weekly", param_hint="--period")
    day = _day(date_)
    settings = _settings(data_dir, db)
    _warn_about_base_url(settings, mails=True)
    with _reported_errors(), _store(settings) as store, _progress("digests") as progress:
        task = progress.add_task("digests", total=None, digests=0, visible=False)

        def advance(done: int, total: int, sent: int) -> None:
            progress.update(task, completed=done, total=total, digests=sent, visible=True)

        report = send_digests(store, settings, period, day, advance, dry_run)
    _report_digests(report, dry_run)


def _report_digests(report: DeliveryReport, dry_run: Path | None) -> None:
    done = f"wrote {report.sent:,} digests to {dry_run}" if dry_run else f"sent {report.sent:,}"
    err.print(
        f"{escape(done)} for {report.subscribers:,} subscribers: {report.empty:,} had nothing "
        f"new, {report.earlier:,} had theirs already, {report.retried:,} retries"
    )
    for address, reason in report.failed:
        err.print(f"[yellow]not delivered to {escape(address)}:[/yellow] {escape(reason)}")


def main() -> None:
    app()


@library_app.command("import")
def library_import(
    username: Username,
    file: InputFile,
    tag: Annotated[str, typer.Option(help="The tag the papers go into.")] = DEFAULT_TAG,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Save a library's arXiv papers into a reader's tag: BibTeX (Zotero, Better BibTeX,
    Mendeley, JabRef, Google Scholar, arXiv), CSL JSON or a list of ids or URLs. Papers not
    stored yet are fetched from arXiv; each entry that cannot be imported is reported with
    its line, and the rest is imported (a rerun adds nothing twice)."""
    settings = _settings(data_dir, db)
    with _reported_errors(), _store(settings) as store:
        name = checked_tag(tag)
        parsed = parse_library(read_library(file.read_bytes()))
        with store.read() as connection:
            user = find_user(connection, username)
        fetcher = _fetcher(settings)
        report = import_library(
            store,
            user.id,
            parsed,
            name,
            datetime.now(UTC),
            lambda ids: fetch_papers(fetcher, settings.arxiv_api_url, ids),
        )
    for skip in report.skipped:
        err.print(f"[yellow]skipped[/yellow] {escape(str(skip))}")
    err.print(
        f"imported {report.added:,} papers into {escape(name)!r} ({report.already:,} were "
        f"there already, {len(report.fetched):,} fetched from arXiv), "
        f"skipped {len(report.skipped):,}"
    )


@library_app.command("export")
def library_export(
    username: Username,
    tag: Annotated[str | None, typer.Option(help="Only this tag (default: every tag).")] = None,
    format: Annotated[str, typer.Option(help="bibtex or jsonl.")] = "bibtex",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """Write a reader's saved papers as BibTeX (eprint, archivePrefix, primaryClass) or as
    JSON lines (id, title, authors, tags, added_at), newest saved first."""
    if format not in EXPORT_FORMATS:
        raise typer.BadParameter(
            f"{format!r}: use {' or '.join(EXPORT_FORMATS)}", param_hint="--format"
        )
    with _reported_errors(), _store(_settings(data_dir, db)) as store:
        with store.read() as connection:
            user = find_user(connection, username)
        text = export_library(store, user.id, checked_tag(tag) if tag else None, format)
        with _output(output) as sink:
            sink.write(text.encode())


@app.command("recommend")
def recommend_command(
    username: Annotated[
        str | None, typer.Argument(help="The reader (or give --library).", show_default=False)
    ] = None,
    library: Annotated[
        Path | None,
        typer.Option(help="A library file (BibTeX, CSL JSON, ids) instead of an account."),
    ] = None,
    date_: Annotated[
        str | None, typer.Option("--date", help="The feed day (default: the newest).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many papers.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db: DbUrl = None,
) -> None:
    """A day's papers ranked for a reader, best first, each with its reason: from their
    library on the site, or (--library FILE) from a file, without an account."""
    if (username is None) == (library is None):
        raise typer.BadParameter("give a USERNAME or --library FILE", param_hint="USERNAME")
    with _reported_errors(), _store(_settings(data_dir, db)) as store, store.read() as connection:
        day = _day(date_) or latest_day(connection)
        if day is None:
            raise _fail("no papers stored yet")
        if library is not None:
            known = library_of_ids(parse_library(read_library(library.read_bytes())).ids)
            model = fit_library(connection, known)
            categories: list[str] = []
        else:
            user = find_user(connection, username or "")
            now = datetime.now(UTC)
            known = reader_library(connection, user.id, now)
            model = reader_model(store, connection, user.id, known, now, fit_now=True)
            categories = remembered_categories(connection, user.id)
        candidates = period_candidates(connection, day, day)
        found = recommend(connection, known, model, candidates, limit, categories)
    if as_json:
        typer.echo(orjson.dumps([dataclasses.asdict(r) for r in found]).decode())
        return
    for rank, item in enumerate(found, 1):
        typer.echo(f"{rank:3}. {item.id}  {item.score:.3f}  {item.reason}")
