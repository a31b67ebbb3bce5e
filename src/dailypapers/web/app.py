"""A first page listing the newest papers; the full site is built on this app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dailypapers import __version__
from dailypapers.config import Settings
from dailypapers.ingest.jsonl import paper_to_json
from dailypapers.storage import Store
from dailypapers.storage.papers import newest_papers

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
PAGE_SIZE = 50


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI(title="dailypapers", version=__version__)
    app.state.settings = settings
    app.state.store = store

    @app.get("/", response_class=HTMLResponse, summary="The newest papers")
    def index(request: Request) -> HTMLResponse:
        with store.read() as connection:
            papers = newest_papers(connection, PAGE_SIZE)
        return TEMPLATES.TemplateResponse(request, "index.html", {"papers": papers})

    @app.get("/papers.json", summary="The newest papers as JSON")
    def papers_json() -> dict[str, object]:
        with store.read() as connection:
            papers = newest_papers(connection, PAGE_SIZE)
        return {"papers": [paper_to_json(paper) for paper in papers]}

    return app
