"""A search service over a real store, with the real encoder (loaded once per test session)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from dailypapers.config import Settings
from dailypapers.models import Paper
from dailypapers.search.encoder import MiniLM
from dailypapers.search.service import SearchService
from dailypapers.storage import Store


class CountingEncoder:
    """The real encoder, counting the texts it is given."""

    def __init__(self, encoder: MiniLM) -> None:
        self.inner = encoder
        self.model = encoder.model
        self.dimensions = encoder.dimensions
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def minilm() -> MiniLM:
    return MiniLM(Settings().cache_dir)


@pytest.fixture
def encoder(minilm: MiniLM) -> CountingEncoder:
    return CountingEncoder(minilm)


@pytest.fixture
def service(store: Store, encoder: CountingEncoder, tmp_path) -> SearchService:  # type: ignore[no-untyped-def]
    return SearchService(Settings(data_dir=tmp_path), store, encoder)


@pytest.fixture
def indexed(service: SearchService, topic_papers: dict[str, Paper]) -> Callable[[str], str]:
    """Index the topic papers; returns topic -> paper id."""
    service.update_indexes()
    return lambda topic: topic_papers[topic].id
