"""Search finds what people type: arXiv ids and URLs, author names, words with a typo,
acronyms and exact phrases in hybrid mode, and stops where relevance ends."""

from __future__ import annotations

import pytest

from dailypapers.demo import load_demo_if_empty
from dailypapers.models import Paper
from dailypapers.search.service import MODES, SearchService
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper

PAPERS = {
    "lecun": make_paper(
        title="Gradient-based learning applied to document recognition",
        abstract="Convolutional networks trained by back-propagation read handwritten digits.",
        authors=["Yann LeCun", "Léon Bottou"],
        categories=["cs.CV"],
    ),
    "lstm": make_paper(
        title="Long short-term memory",
        abstract="A recurrent network with gated memory cells learns long time lags.",
        authors=["Sepp Hochreiter", "Jürgen Schmidhuber"],
        categories=["cs.NE"],
    ),
    "transformer": make_paper(
        title="Attention is all you need: the Transformer",
        abstract="A sequence transducer built on self-attention alone, without recurrence.",
        authors=["Ashish Vaswani"],
        categories=["cs.CL"],
    ),
    "rlhf": make_paper(
        title="Aligning LLM assistants with RLHF",
        abstract="We fine-tune a large language model on human preference comparisons.",
        authors=["Paul Christiano"],
        categories=["cs.CL", "cs.LG"],
    ),
    "preferences": make_paper(
        title="Learning reward models from human preference comparisons for language models",
        abstract="Reward models trained on human preference comparisons steer a language model.",
        authors=["Dario Amodei"],
        categories=["cs.LG"],
    ),
    "gnn": make_paper(
        title="A graph neural network for molecules",
        abstract="Message passing over atoms predicts molecular properties.",
        authors=["Justin Gilmer"],
        categories=["cs.LG"],
    ),
    "network_graph": make_paper(
        title="Neural activity of a network, read as a graph",
        abstract="Recordings of neurons are summarised as a graph of their correlations.",
        authors=["Danielle Bassett"],
        categories=["q-bio.NC"],
    ),
}


@pytest.fixture
def papers(store: Store, service: SearchService) -> dict[str, Paper]:
    with store.transaction() as connection:
        upsert_papers(connection, list(PAPERS.values()))
    service.update_indexes()
    return PAPERS


def first(service: SearchService, text: str, mode: str = "hybrid") -> str | None:
    hits = service.search(text, mode).hits  # type: ignore[arg-type]
    return hits[0].paper_id if hits else None


@pytest.mark.parametrize("mode", MODES)
def test_an_arxiv_id_or_url_finds_that_paper_alone(
    service: SearchService, papers: dict[str, Paper], mode: str
) -> None:
    paper_id = papers["lstm"].id
    for typed in (
        paper_id,
        f"arXiv:{paper_id}v2",
        f"https://arxiv.org/abs/{paper_id}",
        f"arxiv.org/abs/{paper_id}",
        f"https://arxiv.org/pdf/{paper_id}v1",
        f"arxiv.org/pdf/{paper_id}v1.pdf",
    ):
        found = service.search(typed, mode)  # type: ignore[arg-type]
        assert [hit.paper_id for hit in found.hits] == [paper_id] and found.total == 1, typed
    unknown = service.search("https://arxiv.org/abs/2606.26100v3", mode)  # type: ignore[arg-type]
    assert unknown.hits == [] and unknown.query.paper_id == "2606.26100"
    assert service.search("hep-th/9901001", mode).query.paper_id == "hep-th/9901001"  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_an_author_name_finds_their_papers_first(
    service: SearchService, papers: dict[str, Paper], mode: str
) -> None:
    for typed, author, paper in (
        ("Yann LeCun", "Yann LeCun", "lecun"),
        ("yann lecun", "Yann LeCun", "lecun"),
        ("Leon Bottou", "Léon Bottou", "lecun"),  # accents need not be typed
        ("jurgen schmidhuber", "Jürgen Schmidhuber", "lstm"),
        ("Jürgen Schmidhuber", "Jürgen Schmidhuber", "lstm"),
    ):
        found = service.search(typed, mode)  # type: ignore[arg-type]
        assert found.author == author and found.hits[0].paper_id == papers[paper].id, typed
    assert service.search("attention transducer", mode).author is None  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_a_name_as_typed_is_not_corrected(store: Store, service: SearchService, mode: str) -> None:
    """Names are not in the spelling dictionary (titles and abstracts): on the demo "Peter" is
    one letter from "peer", "Liang" from "laing", and on PostgreSQL "Zhang" from "chang"."""
    load_demo_if_empty(store)
    service.update_indexes()
    for name in ("Peter Wonka", "Xiaodan Liang", "Chengzhi Zhang"):
        found = service.search(name, mode)  # type: ignore[arg-type]
        assert (found.author, found.corrected) == (name, None), name


def test_a_surname_alone_finds_the_author_by_keyword(
    service: SearchService, papers: dict[str, Paper]
) -> None:
    found = service.search("lecun", "keyword")
    assert found.author == "Yann LeCun" and found.hits[0].paper_id == papers["lecun"].id
    assert service.search("lecun", "hybrid").author is None  # a word: not taken for a name


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_one_typo_per_word_still_matches(
    service: SearchService, papers: dict[str, Paper], mode: str
) -> None:
    found = service.search("tranformer", mode)  # type: ignore[arg-type]
    assert found.corrected == {"tranformer": "transformer"}
    assert found.hits[0].paper_id == papers["transformer"].id
    found = service.search("recurent memmory cells", mode)  # type: ignore[arg-type]
    assert found.corrected == {"recurent": "recurrent", "memmory": "memory"}
    assert found.hits[0].paper_id == papers["lstm"].id
    assert service.search("transformer", mode).corrected is None  # type: ignore[arg-type]


def test_acronyms_and_exact_phrases_hold_in_hybrid_mode(
    service: SearchService, papers: dict[str, Paper]
) -> None:
    found = [hit.paper_id for hit in service.search("RLHF language model", "hybrid").hits]
    assert found[0] == papers["rlhf"].id and papers["preferences"].id in found
    phrase = service.search('"graph neural network"', "hybrid")
    assert [hit.paper_id for hit in phrase.hits] == [papers["gnn"].id]
    loose = [hit.paper_id for hit in service.search("graph neural network", "hybrid").hits]
    assert papers["network_graph"].id in loose


@pytest.mark.parametrize("mode", MODES)
def test_results_stop_where_relevance_ends(
    service: SearchService, papers: dict[str, Paper], mode: str
) -> None:
    found = service.search("handwritten digit recognition", mode)  # type: ignore[arg-type]
    assert found.hits[0].paper_id == papers["lecun"].id
    assert found.total == len(found.hits) < len(papers)
    assert all(hit.score > 0 for hit in found.hits)  # no min-max 0.000 at the bottom
    nothing = service.search("volcanic basalt eruptions", mode)  # type: ignore[arg-type]
    assert nothing.total == 0 if mode != "keyword" else nothing.hits == []


@pytest.mark.parametrize("mode", MODES)
def test_categories_narrow_a_search_to_any_of_them(
    service: SearchService, papers: dict[str, Paper], mode: str
) -> None:
    found = service.search("language model network", mode, categories=["cs.cl", "q-bio.nc"])  # type: ignore[arg-type]
    ids = {hit.paper_id for hit in found.hits}
    assert ids and ids <= {papers["transformer"].id, papers["rlhf"].id, papers["network_graph"].id}
