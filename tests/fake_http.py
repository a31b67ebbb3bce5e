"""A real HTTP server on loopback that answers from a function, for fetcher tests, a fake
of the arXiv query API over a recorded feed, and a server that never answers."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from tests.conftest import shared

Params = dict[str, str]
Reply = tuple[int, dict[str, str], bytes]
ATOM = "{http://www.w3.org/2005/Atom}"


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


def fake_arxiv_api(params: Params) -> Reply:
    """Answer id_list queries with the recorded entries for those ids, as arXiv does."""
    feed = etree.fromstring(
        shared("fixtures/arxiv-api/query-all-transformer-cs.LG.xml").read_bytes()
    )
    wanted = set(params.get("id_list", "").split(","))
    for entry in feed.findall(f"{ATOM}entry"):
        entry_id = entry.findtext(f"{ATOM}id").rsplit("/", 1)[-1].split("v")[0]
        if entry_id not in wanted:
            feed.remove(entry)
    return 200, {"Content-Type": "application/atom+xml"}, etree.tostring(feed)


@dataclass
class BlackHole:
    port: int
    url: str
    accepted: int = 0  # connections in all
    open: int = 0  # connections open now
    most_open: int = 0  # the most open at once


@contextmanager
def black_hole() -> Iterator[BlackHole]:
    """A server on 127.0.0.1 that accepts connections, reads what is sent and never answers:
    arXiv at its worst. Counts the connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    wake_reader, wake_writer = socket.socketpair()
    port = listener.getsockname()[1]
    hole = BlackHole(port, f"http://127.0.0.1:{port}/api/query")
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_reader, selectors.EVENT_READ)

    def swallow() -> None:
        while True:
            for key, _ in selector.select():
                if key.fileobj is wake_reader:
                    return
                if key.fileobj is listener:
                    connection, _ = listener.accept()
                    selector.register(connection, selectors.EVENT_READ)
                    hole.accepted += 1
                    hole.open += 1
                    hole.most_open = max(hole.most_open, hole.open)
                    continue
                connection = cast(socket.socket, key.fileobj)
                try:
                    closed = not connection.recv(65536)
                except OSError:
                    closed = True
                if closed:
                    selector.unregister(connection)
                    connection.close()
                    hole.open -= 1

    thread = threading.Thread(target=swallow, daemon=True)
    thread.start()
    try:
        yield hole
    finally:
        wake_writer.send(b"x")
        thread.join()
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()
        wake_writer.close()
