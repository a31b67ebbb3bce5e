"""The query language: what is a filter, a phrase, or just words."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.search.query import Query, QueryError, parse_query


def test_filters_phrases_and_words() -> None:
    query = parse_query(
        'vision "masked autoencoder" author:"Kaiming He" cat:cs.CV'
        " after:2025-01-01 before:2025-12-31"
    )
    assert query.words == ("vision", "masked", "autoencoder")
    assert query.phrases == (("masked", "autoencoder"),)
    assert query.authors == ("Kaiming He",)
    assert query.categories == ("cs.cv",)
    assert (query.after, query.before) == (date(2025, 1, 1), date(2025, 12, 31))


def test_search_syntax_of_other_engines_is_only_words() -> None:
    query = parse_query('NEAR(graph network) trans* -attention title:foo "unclosed phrase')
    assert query.words == (
        "NEAR",
        "graph",
        "network",
        "trans",
        "attention",
        "title",
        "foo",
        "unclosed",
        "phrase",
    )
    assert query.phrases == (("unclosed", "phrase"),)
    assert not query.filtered


def test_empty_and_control_characters() -> None:
    assert parse_query("").empty and parse_query('  "" \x00\x1b ').empty
    assert parse_query("deep\x00learning").words == ("deep", "learning")


@given(st.text(max_size=300))
def test_any_text_parses_or_says_why(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert isinstance(query, Query) and len(query.words) <= 64


def test_too_long() -> None:
    with pytest.raises(QueryError, match="too long"):
        parse_query("a " * 600)
