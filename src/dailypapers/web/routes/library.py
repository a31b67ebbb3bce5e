"""A reader's library on the site: saving papers into tags and "not interested" from every
list and paper page (forms that work without JavaScript), the library and each tag as pages
with JSON twins, a private Atom feed per tag (its secret URL works without a session), and
importing and exporting files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.lookup import fetch_papers
from dailypapers.library.formats import LibraryFormatError, parse_library
from dailypapers.library.transfer import (
    DEFAULT_TAG,
    MAX_IMPORT_BYTES,
    LibraryError,
    checked_tag,
    export_library,
    import_library,
    read_library,
)
from dailypapers.models import FeedEntry, User
from dailypapers.storage.library import (
    clear_not_interested,
    current_tag,
    mark_not_interested,
    not_interesting,
    reader_tags,
    save_papers,
    saved_papers,
    saved_tags,
    tag_by_secret,
    unsave_paper,
)
from dailypapers.storage.papers import get_papers
from dailypapers.web.deps import CsrfDep, ReadDep, StoreDep, UserDep, ViewerDep
from dailypapers.web.lists import check_visible, list_page
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.routes.feeds import AtomResponse, FeedList, feed_response
from dailypapers.web.schemas import EntryOut

router = APIRouter()
MAX_FETCH_ON_SITE = 100  # papers an import on the site fetches from arXiv (one API call)


class SavedOut(BaseModel):
    paper_id: str
    saved: list[str]  # the reader's tags holding it now
    not_interested: bool


class TagOut(BaseModel):
    name: str
    papers: int
    page: str
    feed: str  # private: the secret URL of the tag's Atom feed


class LibraryPage(BaseModel):
    username: str
    current_tag: str  # where a list's Save puts a paper
    tags: list[TagOut]
    entries: list[EntryOut]  # every saved paper, newest saved first


class TagPage(BaseModel):
    name: str
    feed: str
    entries: list[EntryOut]


class ImportOut(BaseModel):
    tag: str
    added: int
    already: int
    fetched: list[str]
    skipped: list[str]  # "line N: why"


def tag_path(name: str) -> str:
    return f"/library/tags/{quote(name, safe='')}"


def _tag_out(connection: Connection, user: User) -> list[TagOut]:
    return [
        TagOut(
            name=tag.name,
            papers=tag.papers,
            page=tag_path(tag.name),
            feed=f"/feeds/library/{tag.feed_secret}.atom",
        )
        for tag in reader_tags(connection, user.id)
    ]


def _listed(connection: Connection, ids: list[str], user_id: int | None) -> list[FeedEntry]:
    """Every one of these papers as a list shows it, newest first."""
    papers = {p.id: p for p in get_papers(connection, ids)}
    days = {i: papers[i].announced or date.min for i in ids if i in papers}
    return list_page(connection, days, "newest", 1, user_id, size=max(len(days), 1)).entries


def ordered_entries(connection: Connection, user_id: int | None, ids: list[str]) -> list[FeedEntry]:
    """The papers as lists show them, in the order given."""
    by_id = {entry.paper.id: entry for entry in _listed(connection, ids, user_id)}
    return [by_id[i] for i in ids if i in by_id]


def entries_of(connection: Connection, user_id: int | None, ids: list[str]) -> list[EntryOut]:
    return [EntryOut.of(entry) for entry in ordered_entries(connection, user_id, ids)]


def _login(request: Request) -> Response:
    back = same_site_referer(request, "/")
    if wants_json(request):
        raise HTTPException(401, "sign in first")
    return RedirectResponse("/login?" + urlencode({"next": back}), 303)


def _answer(request: Request, connection: Connection, user: User, paper_id: str) -> Response:
    tags = saved_tags(connection, user.id, [paper_id]).get(paper_id, [])
    hidden = paper_id in not_interesting(connection, user.id)
    result = SavedOut(paper_id=paper_id, saved=tags, not_interested=hidden)
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, f"/papers/{paper_id}"), 303)


@router.post(
    "/papers/{paper_id:arxiv}/save",
    response_model=SavedOut,
    dependencies=[CsrfDep],
    summary="Save a paper into a tag of your library, or take it out",
)
def save(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: ViewerDep,
    tag: Annotated[
        str | None, Form(description="The tag (default: the one you saved into last).")
    ] = None,
    action: Annotated[Literal["save", "unsave"], Query()] = "save",
) -> Response:
    if viewer is None:
        return _login(request)
    name = _tag(tag)
    with store.transaction() as connection:
        check_visible(connection, paper_id)
        name = name or current_tag(connection, viewer.id) or DEFAULT_TAG
        if action == "save":
            save_papers(connection, viewer.id, name, [paper_id], datetime.now(UTC))
        else:
            unsave_paper(connection, viewer.id, None if tag is None else name, paper_id)
        return _answer(request, connection, viewer, paper_id)


@router.post(
    "/papers/{paper_id:arxiv}/not-interested",
    response_model=SavedOut,
    dependencies=[CsrfDep],
    summary="Leave a paper out of your lists (a negative for 'for you'), or take that back",
)
def not_interested(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: ViewerDep,
    action: Annotated[Literal["mark", "clear"], Query()] = "mark",
) -> Response:
    if viewer is None:
        return _login(request)
    with store.transaction() as connection:
        check_visible(connection, paper_id)
        if action == "mark":
            mark_not_interested(connection, viewer.id, paper_id, datetime.now(UTC))
        else:
            clear_not_interested(connection, viewer.id, [paper_id])
        return _answer(request, connection, viewer, paper_id)


def _tag(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return checked_tag(text)
    except LibraryError as error:
        raise HTTPException(400, str(error), headers={"X-Field": "tag"}) from None


@router.get("/library", response_class=HTMLResponse, summary="Your library")
@router.get("/library.json", response_model=LibraryPage, summary="Your library")
def library(request: Request, connection: ReadDep, viewer: UserDep) -> Response:
    saved = saved_papers(connection, viewer.id)
    data = LibraryPage(
        username=viewer.username,
        current_tag=current_tag(connection, viewer.id) or DEFAULT_TAG,
        tags=_tag_out(connection, viewer),
        entries=entries_of(connection, viewer.id, [s.paper_id for s in saved]),
    )
    return respond(request, "library.html", data, max_bytes=MAX_IMPORT_BYTES)


@router.get("/library/tags/{name}", response_class=HTMLResponse, summary="A tag of your library")
@router.get("/library/tags/{name}.json", response_model=TagPage, summary="A tag of your library")
def tag_page(request: Request, name: str, connection: ReadDep, viewer: UserDep) -> Response:
    tags = {tag.name: tag for tag in _tag_out(connection, viewer)}
    if name not in tags:
        raise HTTPException(404, f"you have no tag {name!r}")
    saved = saved_papers(connection, viewer.id, name)
    entries = entries_of(connection, viewer.id, [s.paper_id for s in saved])
    data = TagPage(name=name, feed=tags[name].feed, entries=entries)
    return respond(request, "library_tag.html", data, feed_url=tags[name].feed)


@router.get(
    "/feeds/library/{secret}.atom",
    response_class=AtomResponse,
    summary="A tag of a reader's library, Atom (the secret URL is the key)",
)
def tag_feed(request: Request, secret: str, connection: ReadDep) -> Response:
    found = tag_by_secret(connection, secret) if len(secret) <= 64 else None
    if found is None:
        raise HTTPException(404, "no such feed")
    user_id, name = found
    entries = _listed(
        connection, [s.paper_id for s in saved_papers(connection, user_id, name)], None
    )
    listed = FeedList(
        f"Saved in {name}", f"The papers saved in the tag {name}", tag_path(name), entries
    )
    return feed_response(request, listed)


@router.post(
    "/library/import",
    response_model=ImportOut,
    dependencies=[CsrfDep],
    summary="Import a library file (BibTeX, CSL JSON, ids) into a tag",
)
def import_file(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    file: Annotated[UploadFile, File(description="BibTeX, CSL JSON, or one arXiv id per line.")],
    tag: Annotated[str, Form(description="The tag the papers go into.")] = DEFAULT_TAG,
) -> Response:
    name = _tag(tag) or DEFAULT_TAG
    try:
        parsed = parse_library(read_library(file.file.read(MAX_IMPORT_BYTES + 1)))
    except (LibraryError, LibraryFormatError) as error:
        raise HTTPException(400, str(error), headers={"X-Field": "file"}) from None
    settings = request.app.state.settings

    def fetch(ids: list[str]) -> list:  # type: ignore[type-arg]
        if len(ids) > MAX_FETCH_ON_SITE:
            raise IngestError(f"more than {MAX_FETCH_ON_SITE} at once; import the file again")
        fetcher = Fetcher.for_site(settings, deadline=settings.web_fetch_timeout)
        return fetch_papers(fetcher, settings.arxiv_api_url, ids)

    report = import_library(store, viewer.id, parsed, name, datetime.now(UTC), fetch)
    data = ImportOut(
        tag=name,
        added=report.added,
        already=report.already,
        fetched=report.fetched,
        skipped=[str(skip) for skip in report.skipped],
    )
    return respond(request, "library_import.html", data)


@router.get("/library/export.bib", summary="Your library as BibTeX")
@router.get("/library/export.jsonl", summary="Your library as JSON lines")
def export_file(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    tag: Annotated[str | None, Query(description="Only this tag.")] = None,
) -> Response:
    bibtex = request.url.path.endswith(".bib")
    text = export_library(store, viewer.id, _tag(tag), "bibtex" if bibtex else "jsonl")
    media = "application/x-bibtex" if bibtex else "application/x-ndjson"
    filename = f"library.{'bib' if bibtex else 'jsonl'}"
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
