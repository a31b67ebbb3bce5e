"""Closing connections that take too long to send a request's head (slowloris).

uvicorn bounds the idle time between requests (`timeout_keep_alive`) but not the time a
request's line and headers take: any byte cancels its timer, so a client trickling a header
byte a second held a connection, and its memory, forever; a thousand such clients held the
server. `HeaderDeadline` is uvicorn's h11 protocol with one timer more.

Outside `web/` on purpose: each worker process unpickles its uvicorn config, this class
included, before it starts answering the supervisor's health checks, and importing `web/`
means importing the whole site (seconds on a busy machine: the supervisor killed workers).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadline(H11Protocol):
    """Each request's head must be in within `header_timeout` seconds of the connection
    opening or of the previous response ending; else the connection is closed."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self) -> None:
        self._stop_clock()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_overdue(self) -> None:
        self._deadline = None
        # Their state leaves IDLE once a whole request head has been parsed.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.conn.send(h11.ConnectionClosed())
            self.transport.close()
