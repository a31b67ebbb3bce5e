"""Polite HTTP for arXiv: one queue per site and process, Retry-After honoured, one-line
errors.

Every `Fetcher` of a process goes through the one `SiteGate` of the site it asks (arXiv's
hosts count as one site): one request at a time, over one connection, each starting at
least `delay` seconds after the one before, whoever asks (a web request, the jobs thread, a
CLI command). A fetcher's `deadline` bounds a whole `get`, its wait for a turn and its
retries included, for callers that cannot wait long (the web); `OutOfTime` says it passed.
An answer is read as it streams in, and refused past `MAX_ANSWER_BYTES`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from dailypapers import __version__
from dailypapers.config import Settings
from dailypapers.ingest.errors import IngestError

USER_AGENT = f"dailypapers/{__version__} (self-hosted paper feed)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 600.0
MIN_ATTEMPT_S = 0.05  # the least time an attempt is given when the deadline is that close
MAX_ANSWER_BYTES = 64 << 20  # an answer past this is refused (arXiv's largest feed: a few MB)


class OutOfTime(IngestError):
    """No answer in time: the site did not answer, or the caller's deadline came first."""


class Unavailable(IngestError):
    """The site answered 429/5xx to every try; `retry_after` is the wait it asked for last."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def user_agent(settings: Settings) -> str:
    """Names the site and, when set, its admins, as arXiv asks of harvesters."""
    contact = f"; mailto:{settings.contact_email}" if settings.contact_email else ""
    return f"{USER_AGENT[: USER_AGENT.index(' (')]} (+{settings.base_url}{contact})"


@dataclass(frozen=True)
class Fetched:
    """One answer: its body (None for 304 Not Modified) and its validators."""

    content: bytes | None
    etag: str | None
    last_modified: str | None


class SiteGate:
    """Requests from this process to one site: one at a time over one connection, each
    starting `delay` seconds or more after the one before started."""

    def __init__(self) -> None:
        self._turn = threading.Lock()
        self._last_start = -math.inf
        self.client = httpx.Client(
            follow_redirects=True,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    @contextmanager
    def turn(self, delay: float, deadline: float) -> Iterator[None]:
        """Hold the site for one request. `deadline` is a time.monotonic() (math.inf: none);
        OutOfTime when the turn cannot start before it."""
        wait = deadline - time.monotonic()
        if not self._turn.acquire(timeout=-1 if wait == math.inf else max(wait, 0.0)):
            raise OutOfTime("no turn in time: earlier requests to the same site were queued")
        try:
            start = self._last_start + delay
            if start > deadline:
                raise OutOfTime(f"no turn in time: the site is asked at most every {delay:g} s")
            time.sleep(max(start - time.monotonic(), 0.0))
            self._last_start = time.monotonic()
            yield
        finally:
            self._turn.release()


_GATES: dict[str, SiteGate] = {}
_GATES_LOCK = threading.Lock()


def _site(url: httpx.URL) -> str:
    if url.host == "arxiv.org" or url.host.endswith(".arxiv.org"):
        return "arxiv.org"  # export. (the API) and oaipmh. share arXiv's limit
    return f"{url.scheme}://{url.host}:{url.port}"


def site_gate(url: httpx.URL) -> SiteGate:
    """The process's gate for the site of `url`, made on first use."""
    site = _site(url)
    with _GATES_LOCK:
        if site not in _GATES:
            _GATES[site] = SiteGate()
        return _GATES[site]


def _retry_after(response: httpx.Response, default: float) -> float:
    """Seconds the server asks us to wait: a number or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isascii() and value.isdigit():  # not str.isdigit() alone: '²' is a digit to it
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return min(max((moment - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _http_error(request: httpx.URL, response: httpx.Response) -> IngestError:
    return IngestError(f"{request}: HTTP {response.status_code} {response.reason_phrase}")


class Fetcher:
    """GETs through the site's gate, retrying 503s and dropped links; with a `deadline`
    (seconds), a `get` gives up when its answer cannot come within it."""

    def __init__(
        self,
        *,
        delay: float = 3.0,
        retries: int = 5,
        timeout: float = 60.0,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        agent: str = USER_AGENT,
    ) -> None:
        self.delay = delay
        self.retries = retries
        self.timeout = timeout
        self.deadline = deadline
        self.sleep = sleep
        self.agent = agent

    @classmethod
    def for_site(
        cls, settings: Settings, deadline: float | None = None, retries: int | None = None
    ) -> Fetcher:
        """The fetcher every part of the site uses, as its settings say."""
        return cls(
            delay=settings.polite_delay,
            retries=settings.http_retries if retries is None else retries,
            timeout=settings.http_timeout,
            deadline=deadline,
            agent=user_agent(settings),
        )

    def get(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        content = self.fetch(url, params).content
        assert content is not None  # only a conditional GET is answered 304
        return content

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """A GET, conditional when given the validators of an earlier answer."""
        request = httpx.URL(url, params=dict(params or {}))
        headers = {"User-Agent": self.agent}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        gate = site_gate(request)
        deadline = math.inf if self.deadline is None else time.monotonic() + self.deadline
        for attempt in range(self.retries + 1):
            backoff = self.delay * 2**attempt
            try:
                response, content = self._attempt(gate, request, headers, deadline)
            except httpx.TimeoutException as error:
                failure: IngestError = OutOfTime(f"{request}: {type(error).__name__}: {error}")
            except httpx.HTTPError as error:
                failure = IngestError(f"{request}: {type(error).__name__}: {error}")
            else:
                if not response.is_error:
                    return _fetched(response, content)
                if response.status_code not in RETRY_STATUSES:
                    raise _http_error(request, response)
                backoff = _retry_after(response, backoff)
                failure = Unavailable(str(_http_error(request, response)), backoff)
            if attempt == self.retries or time.monotonic() + backoff > deadline:
                raise failure
            self.sleep(backoff)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(
        self, gate: SiteGate, request: httpx.URL, headers: dict[str, str], deadline: float
    ) -> tuple[httpx.Response, bytes | None]:
        """One try: the answer (closed) and its body, None for an error or a 304."""
        try:
            with gate.turn(self.delay, deadline):
                left = max(deadline - time.monotonic(), MIN_ATTEMPT_S)
                outgoing = gate.client.build_request(
                    "GET", request, headers=headers, timeout=min(self.timeout, left)
                )
                response = gate.client.send(outgoing, stream=True)
                try:  # closed on every path: the gate's one connection is the next one's
                    if response.is_error or response.status_code == 304:
                        return response, None
                    return response, _body(request, response)
                finally:
                    response.close()
        except OutOfTime as error:
            raise OutOfTime(f"{request}: {error}") from None


def _too_large(request: httpx.URL) -> IngestError:
    return IngestError(
        f"{request}: the answer is larger than {MAX_ANSWER_BYTES >> 20} MiB, refused"
    )


def _body(request: httpx.URL, response: httpx.Response) -> bytes:
    """The answer's body, read as it comes; an IngestError past MAX_ANSWER_BYTES."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise _too_large(request)
    body = bytearray()
    for chunk in response.iter_bytes():  # decoded: a small gzip of a huge body is refused too
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise _too_large(request)
    return bytes(body)


def _fetched(response: httpx.Response, content: bytes | None) -> Fetched:
    return Fetched(content, response.headers.get("ETag"), response.headers.get("Last-Modified"))
