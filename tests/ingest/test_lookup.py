"""`ingest arxiv ID …` against a local fake of the arXiv query API over a recorded feed."""

from __future__ import annotations

from dailypapers.storage import Store
from dailypapers.storage.papers import count_papers, get_paper
from tests.fake_http import fake_arxiv_api, serving


def test_papers_by_id_in_any_form(dailypapers, store: Store) -> None:
    with serving(fake_arxiv_api) as server:
        result = dailypapers(
            "ingest",
            "arxiv",
            "2606.13677",
            "https://arxiv.org/abs/2606.13591v1",
            "arXiv:2606.13568",
            "http://arxiv.org/pdf/2606.13515v1.pdf",
            "--url",
            server.url,
        )
    assert result.exit_code == 0, result.output
    assert server.requests[0]["id_list"] == "2606.13677,2606.13591,2606.13568,2606.13515"
    with store.read() as connection:
        assert count_papers(connection) == 4
        paper = get_paper(connection, "2606.13677")
    assert paper.title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert paper.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert paper.authors == ["Zhao-Heng Yin", "Guanya Shi", "Pieter Abbeel", "C. Karen Liu"]
    assert paper.versions[0].number == 1 and paper.published.isoformat() == "2026-06-11"
    assert paper.sources["title"] == "arxiv-api"


def test_an_unknown_id_is_named_and_the_known_ones_are_kept(dailypapers, store: Store) -> None:
    with serving(fake_arxiv_api) as server:
        result = dailypapers("ingest", "arxiv", "2606.13677", "2401.99999", "--url", server.url)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "error: unknown arXiv id: 2401.99999"
    with store.read() as connection:
        assert count_papers(connection) == 1


def test_a_malformed_id_is_refused_before_any_request(dailypapers) -> None:
    with serving(fake_arxiv_api) as server:
        result = dailypapers("ingest", "arxiv", "not-an-id", "--url", server.url)
    assert result.exit_code == 1
    assert result.output.strip() == "error: not an arXiv id: 'not-an-id'"
    assert server.requests == []


def test_arxiv_unreachable_is_one_line(dailypapers) -> None:
    with serving(lambda params: (200, {}, b"")) as server:
        url = server.url
    result = dailypapers("ingest", "arxiv", "2606.13677", "--url", url)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error:") and "id_list=2606.13677" in line
