"""Running the site under uvicorn, in one process or in several worker processes."""

from __future__ import annotations

import os
import socket
from functools import partial

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from dailypapers.config import Settings
from dailypapers.slow_clients import HeaderDeadline
from dailypapers.storage import open_store
from dailypapers.web.app import create_app

APP = "dailypapers.web.server:app_from_env"


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker: its own settings (DAILYPAPERS_*) and store."""
    settings = Settings()
    store = open_store(settings.database_url)
    app = create_app(settings, store)
    app.router.add_event_handler("shutdown", store.close)
    return app


def serve_site(settings: Settings, workers: int) -> None:
    """Serve until interrupted. X-Forwarded-For/-Proto are believed only from the proxies
    that `trusted_proxies` names (none by default)."""
    # Workers are fresh processes: they find the database where Settings() looks.
    os.environ["DAILYPAPERS_DATA_DIR"] = str(settings.data_dir)
    os.environ["DAILYPAPERS_DB"] = settings.database_url
    options = {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": bool(settings.trusted_proxies.strip()),
        "forwarded_allow_ips": settings.trusted_proxies.strip() or None,
        "http": partial(HeaderDeadline, header_timeout=settings.header_timeout),
        "timeout_graceful_shutdown": settings.shutdown_timeout,  # then in-flight ones are cancelled
    }
    if workers == 1:
        uvicorn.run(APP, factory=True, **options)
        return
    config = uvicorn.Config(APP, factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[_tcp_listener(config)]).run()


def _tcp_listener(config: uvicorn.Config) -> socket.socket:
    """uvicorn's listening socket, labelled as TCP. asyncio turns Nagle off on accepted
    connections only for sockets labelled so, and uvicorn's own leaves the label at 0: with
    Nagle on, each keep-alive response waited ~40 ms for a delayed ACK (uvicorn issue 3149)."""
    listener = config.bind_socket()
    if listener.family not in (socket.AF_INET, socket.AF_INET6):
        return listener
    return socket.socket(listener.family, listener.type, socket.IPPROTO_TCP, listener.detach())
