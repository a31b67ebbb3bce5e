"""/docs (Swagger UI) and /redoc over /openapi.json, with their scripts and styles served
from the fastapi-offline package rather than a CDN."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parents[1] / "static"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> FileResponse:
    return FileResponse(STATIC / "api-docs.html")


@router.get("/redoc")
def redoc() -> FileResponse:
    return FileResponse(STATIC / "api-redoc.html")


def mount_assets(app: FastAPI) -> None:
    """Before /static itself, which would otherwise take these paths."""
    app.mount("/static/api-docs", StaticFiles(directory=ASSETS), name="api-docs")
