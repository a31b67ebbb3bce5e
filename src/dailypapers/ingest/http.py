"""Polite HTTP for arXiv: a delay between requests, Retry-After honoured, one-line errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from dailypapers import __version__
from dailypapers.ingest.errors import IngestError

USER_AGENT = f"dailypapers/{__version__} (self-hosted paper feed)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 600.0


def _retry_after(response: httpx.Response, default: float) -> float:
    """Seconds the server asks us to wait: a number or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return min(max((moment - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


class Fetcher:
    """GETs with at least `delay` seconds between requests, retrying 503s and dropped links."""

    def __init__(
        self,
        *,
        delay: float = 3.0,
        retries: int = 5,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delay = delay
        self.retries = retries
        self.sleep = sleep
        self.client = httpx.Client(
            timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True
        )
        self._last_request = 0.0

    def _wait_politely(self) -> None:
        remaining = self._last_request + self.delay - time.monotonic()
        if remaining > 0:
            self.sleep(remaining)
        self._last_request = time.monotonic()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        request = str(httpx.URL(url, params=dict(params or {})))
        for attempt in range(self.retries + 1):
            self._wait_politely()
            try:
                response = self.client.get(url, params=params)
            except httpx.HTTPError as error:
                if attempt == self.retries:
                    raise IngestError(f"{request}: {type(error).__name__}: {error}") from error
                self.sleep(self.delay * 2**attempt)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                self.sleep(_retry_after(response, self.delay * 2**attempt))
                continue
            if response.is_error:
                raise IngestError(
                    f"{request}: HTTP {response.status_code} {response.reason_phrase}"
                )
            return response.content
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
