"""OAI-PMH harvests end to end, against recorded arXiv pages served on loopback."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.harvest import HarvestRequest, harvest
from dailypapers.ingest.http import Fetcher
from dailypapers.storage import Store
from dailypapers.storage.cursors import load_cursor
from dailypapers.storage.papers import count_papers, get_paper
from tests.conftest import shared
from tests.fake_http import Params, Reply, serving

XML = {"Content-Type": "text/xml; charset=utf-8"}
TOKENS = {None: 0, "6511260|1001": 1, "6511260|2001": 2}
DATA = Path(__file__).parent / "data"


def recorded_page(params: Params) -> Reply:
    page = TOKENS.get(params.get("resumptionToken"))
    if page is None:
        return 200, XML, (DATA / "error_badResumptionToken.xml").read_bytes()
    return 200, XML, shared(f"fixtures/oai-pmh/ListRecords_data_{page}.xml").read_bytes()


def papers_in(store: Store) -> int:
    with store.read() as connection:
        return count_papers(connection)


def run_harvest(store: Store, url: str, **fetcher_options: object):
    request = HarvestRequest(url, "oai_dc")
    return harvest(store, Fetcher(delay=0, **fetcher_options), request)


def test_a_full_harvest_stores_every_record_once(store: Store) -> None:
    with serving(recorded_page) as server:
        cursor = run_harvest(store, server.url)
        again = run_harvest(store, server.url)
    assert (cursor.records, cursor.pages, cursor.finished) == (2265, 3, True)
    assert cursor.complete_list_size == 2265
    assert again.records == 2265
    assert papers_in(store) == 2265
    assert server.requests[0] == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    assert server.requests[1] == {"verb": "ListRecords", "resumptionToken": "6511260|1001"}
    with store.read() as connection:
        paper = get_paper(connection, "0806.4410")
    assert paper.title == "Summing the curious series of Kempner and Irwin"
    assert paper.categories == ["math.CA", "math.NT"]


def test_a_harvest_killed_after_the_first_page_resumes_without_duplicates(
    store: Store, database_url: str
) -> None:
    second_page_asked = threading.Event()
    release = threading.Event()

    def stall_on_second_page(params: Params) -> Reply:
        if params.get("resumptionToken") == "6511260|1001" and not release.is_set():
            second_page_asked.set()
            release.wait(30)
        return recorded_page(params)

    with serving(stall_on_second_page) as server:
        command = [sys.executable, "-m", "dailypapers", "ingest", "oai", "--url", server.url]
        command += ["--format", "oai_dc", "--delay", "0", "--db", database_url]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert second_page_asked.wait(60), "the harvester never asked for page two"
            process.kill()  # SIGKILL: no clean-up of any kind
            process.wait(30)
        finally:
            release.set()
        assert papers_in(store) == 1000
        server.requests.clear()
        cursor = run_harvest(store, server.url)
    assert server.requests[0] == {"verb": "ListRecords", "resumptionToken": "6511260|1001"}
    assert cursor.records == 2265
    assert papers_in(store) == 2265


def test_503_with_retry_after_is_waited_out(store: Store) -> None:
    waits: list[float] = []
    refusals = iter([True, True])

    def busy_then_recorded(params: Params) -> Reply:
        if next(refusals, False):
            return 503, {"Retry-After": "7"}, b"busy"
        return recorded_page(params)

    with serving(busy_then_recorded) as server:
        cursor = run_harvest(store, server.url, sleep=waits.append)
    assert cursor.records == 2265
    assert waits.count(7.0) == 2


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_fail_naming_the_request(store: Store, status: int) -> None:
    with (
        serving(lambda params: (status, {}, b"nope")) as server,
        pytest.raises(IngestError) as caught,
    ):
        run_harvest(store, server.url, retries=1, sleep=lambda _: None)
    message = str(caught.value)
    assert f"HTTP {status}" in message and "verb=ListRecords" in message
    assert "\n" not in message


def test_malformed_page_fails_in_one_line_and_keeps_earlier_pages(
    store: Store, dailypapers
) -> None:
    def broken_second_page(params: Params) -> Reply:
        if params.get("resumptionToken") == "6511260|1001":
            return 200, XML, recorded_page(params)[2][:50_000]
        return recorded_page(params)

    with serving(broken_second_page) as server:
        result = dailypapers(
            "ingest", "oai", "--url", server.url, "--format", "oai_dc", "--delay", 0
        )
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()[-1:]
    assert line.startswith("error:") and "resumptionToken=6511260" in line and "line" in line
    assert papers_in(store) == 1000

    with serving(recorded_page) as server:
        result = dailypapers(
            "ingest", "oai", "--url", server.url, "--format", "oai_dc", "--delay", 0
        )
    assert result.exit_code == 0, result.output
    assert papers_in(store) == 2265


def test_bad_resumption_token_fails_and_the_rerun_starts_over(store: Store) -> None:
    expired = {"on": True}

    def token_expired(params: Params) -> Reply:
        if expired["on"] and params.get("resumptionToken") == "6511260|2001":
            return 200, XML, (DATA / "error_badResumptionToken.xml").read_bytes()
        return recorded_page(params)

    with serving(token_expired) as server:
        with pytest.raises(IngestError, match="badResumptionToken"):
            run_harvest(store, server.url)
        assert papers_in(store) == 2000
        with store.read() as connection:
            assert load_cursor(connection, HarvestRequest(server.url, "oai_dc").name) is None
        expired["on"] = False
        server.requests.clear()
        cursor = run_harvest(store, server.url)
    assert "resumptionToken" not in server.requests[0]
    assert cursor.records == 2265 and papers_in(store) == 2265


def test_no_records_match_is_an_empty_harvest(store: Store) -> None:
    empty = (DATA / "error_noRecordsMatch.xml").read_bytes()
    with serving(lambda params: (200, XML, empty)) as server:
        cursor = run_harvest(store, server.url)
    assert cursor.finished and cursor.records == 0
    assert papers_in(store) == 0
