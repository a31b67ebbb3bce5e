"""A fake arXiv on loopback for keeping current: the listing feeds of the shared days (the
test says which day it is), OAI-PMH that has no records, the query API over a recorded
feed, and Hugging Face's daily papers. It answers conditional GETs as arXiv does, and can
fail on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.conftest import shared
from tests.fake_http import fake_arxiv_api

FEEDS = "fixtures/arxiv-rss/cs.CL+cs.LG"
DAYS = ("2026-06-26", "2026-06-27", "2026-06-29", "2026-06-30", "2026-07-01")
NO_RECORDS = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2026-07-01T00:00:00Z</responseDate>
<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>
<error code="noRecordsMatch">No records match the request</error>
</OAI-PMH>
"""


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeArxiv:
    base: str = ""
    day: str = DAYS[0]  # whose feed the listing feeds answer
    feed_body: bytes | None = None  # answered instead of the day's feed (bad input)
    failing: int = 0  # answer 503 to the next this many requests
    hf_body: bytes = b"[]"  # what Hugging Face's daily papers endpoint answers
    requests: list[Request] = field(default_factory=list)

    @property
    def rss_url(self) -> str:
        return f"{self.base}/rss/"

    @property
    def oai_url(self) -> str:
        return f"{self.base}/oai"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/query"

    @property
    def hf_url(self) -> str:
        return f"{self.base}/api/daily_papers"

    def env(self) -> dict[str, str]:
        """All it takes to point a site at this fake."""
        return {
            "DAILYPAPERS_FOLLOW": "cs.CL cs.LG",
            "DAILYPAPERS_ARXIV_RSS_URL": self.rss_url,
            "DAILYPAPERS_OAI_URL": self.oai_url,
            "DAILYPAPERS_ARXIV_API_URL": self.api_url,
            "DAILYPAPERS_POLITE_DELAY": "0",
        }

    def feeds_asked(self) -> list[Request]:
        return [request for request in self.requests if request.path.startswith("/rss/")]

    def answer(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if self.failing:
            self.failing -= 1
            return 503, {"Retry-After": "1"}, b"arXiv is down"
        if request.path.startswith("/rss/"):
            return self._feed(request)
        if request.path == "/oai":
            return 200, {"Content-Type": "text/xml"}, NO_RECORDS
        if request.path == "/api/query":
            return fake_arxiv_api(request.params)
        if request.path == "/api/daily_papers":
            return 200, {"Content-Type": "application/json"}, self.hf_body
        return 404, {}, b"not found"

    def _feed(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.path != "/rss/cs.CL+cs.LG":
            return 404, {}, b"no such feed"
        if self.feed_body is not None:
            return 200, {"Content-Type": "application/rss+xml"}, self.feed_body
        etag = f'"{self.day}"'
        if request.headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        body = shared(f"{FEEDS}/{self.day}.xml").read_bytes()
        return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, body


@contextmanager
def fake_arxiv() -> Iterator[FakeArxiv]:
    fake = FakeArxiv()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(parts.path, dict(parse_qsl(parts.query)), headers)
            with lock:
                fake.requests.append(request)
                status, reply_headers, body = fake.answer(request)
            self.send_response(status)
            for name, value in reply_headers.items():
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
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
