"""The polite gate every Fetcher of a process shares, against real servers on loopback."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.http import Fetcher, OutOfTime, site_gate
from tests.fake_http import Params, Reply, black_hole, serving

DELAY = 0.2


def test_fetchers_in_one_process_share_one_polite_queue() -> None:
    """Four threads, two fetchers, eight requests: the server sees one at a time, and they
    take at least the seven DELAYs between their starts."""
    in_flight = most_in_flight = 0
    lock = threading.Lock()

    def slow_answer(params: Params) -> Reply:
        nonlocal in_flight, most_in_flight
        with lock:
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return 200, {}, b"ok"

    with serving(slow_answer) as server:
        fetchers = [Fetcher(delay=DELAY, retries=0), Fetcher(delay=DELAY, retries=0)]

        def fetch_twice(fetcher: Fetcher) -> None:
            for number in range(2):
                assert fetcher.get(server.url, {"n": str(number)}) == b"ok"

        threads = [threading.Thread(target=fetch_twice, args=(f,)) for f in fetchers * 2]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
    assert len(server.requests) == 8 and most_in_flight == 1
    assert took >= 7 * DELAY  # per fetcher, it would be 3 * DELAY


def test_arxiv_hosts_share_one_gate_and_other_sites_have_their_own() -> None:
    api = site_gate(httpx.URL("https://export.arxiv.org/api/query"))
    assert site_gate(httpx.URL("https://oaipmh.arxiv.org/oai")) is api
    assert site_gate(httpx.URL("http://127.0.0.1:1/x")) is not site_gate(
        httpx.URL("http://127.0.0.1:2/x")
    )


def test_a_deadline_bounds_the_wait_behind_a_silent_request() -> None:
    """One request hangs on a server that never answers; a fetcher with a deadline waiting
    behind it gives up in time, without opening a second connection."""
    with black_hole() as hole:
        errors: list[IngestError] = []

        def hang() -> None:
            try:
                Fetcher(delay=0, retries=0, timeout=1.5).get(hole.url)
            except IngestError as error:
                errors.append(error)

        stuck = threading.Thread(target=hang)
        stuck.start()
        while hole.accepted == 0:
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(OutOfTime) as caught:
            Fetcher(delay=0, retries=3, deadline=0.3).get(hole.url, {"id_list": "2401.00001"})
        waited = time.monotonic() - started
        stuck.join()
    assert 0.25 < waited < 1.0
    assert str(caught.value) == (
        f"{hole.url}?id_list=2401.00001: no turn in time: "
        "earlier requests to the same site were queued"
    )
    assert (hole.accepted, hole.most_open) == (1, 1)
    assert len(errors) == 1 and isinstance(errors[0], OutOfTime)
    assert "ReadTimeout" in str(errors[0])


def test_a_deadline_cuts_a_silent_request_short() -> None:
    with black_hole() as hole:
        started = time.monotonic()
        with pytest.raises(OutOfTime) as caught:
            Fetcher(delay=0, retries=5, timeout=60, deadline=0.5).get(hole.url)
        waited = time.monotonic() - started
    assert 0.45 < waited < 1.5
    assert str(caught.value).startswith(f"{hole.url}: ReadTimeout")


def test_a_retry_after_beyond_the_deadline_fails_at_once() -> None:
    waits: list[float] = []
    with serving(lambda params: (503, {"Retry-After": "30"}, b"busy")) as busy:
        fetcher = Fetcher(delay=0, retries=5, deadline=5, sleep=waits.append)
        with pytest.raises(IngestError) as caught:
            fetcher.get(busy.url)
    assert not isinstance(caught.value, OutOfTime)
    assert str(caught.value) == f"{busy.url}: HTTP 503 Service Unavailable"
    assert (waits, len(busy.requests)) == ([], 1)
