"""A real HTTP server on loopback that answers from a function, for fetcher tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

Params = dict[str, str]
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FakeServer:
    url: str
    requests: list[Params] = field(default_factory=list)


@contextmanager
def serving(answer: Callable[[Params], Reply]) -> Iterator[FakeServer]:
    """Serve GETs on 127.0.0.1; `answer` gets the query parameters and returns the reply."""
    server_state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            params = dict(parse_qsl(urlsplit(self.path).query))
            server_state.requests.append(params)
            status, headers, body = answer(params)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}/oai"
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
