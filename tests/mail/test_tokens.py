"""Signed links: they round-trip, and tampered, expired or misused ones are refused."""

from __future__ import annotations

import time

import pytest

from dailypapers.config import Settings
from dailypapers.mail.tokens import (
    CONFIRM,
    MANAGE,
    UNSUBSCRIBE,
    LinkSigner,
    TokenError,
    link_signer,
)
from dailypapers.storage import Store, open_store

PAYLOAD = {"s": 7, "e": "ada@example.org"}


def test_a_token_round_trips() -> None:
    signer = LinkSigner("a secret")
    assert signer.read(UNSUBSCRIBE, signer.make(UNSUBSCRIBE, PAYLOAD)) == PAYLOAD


@pytest.mark.parametrize("cut", [slice(None, -1), slice(1, None)])
def test_a_tampered_token_is_refused(cut: slice) -> None:
    signer = LinkSigner("a secret")
    token = signer.make(UNSUBSCRIBE, PAYLOAD)
    with pytest.raises(TokenError, match="not valid"):
        signer.read(UNSUBSCRIBE, token[cut])
    with pytest.raises(TokenError, match="not valid"):
        LinkSigner("another secret").read(UNSUBSCRIBE, token)


def test_a_token_is_for_one_purpose() -> None:
    signer = LinkSigner("a secret")
    with pytest.raises(TokenError, match="not valid"):
        signer.read(CONFIRM, signer.make(MANAGE, PAYLOAD))


def test_an_expired_token_is_refused() -> None:
    eight_days_ago = time.time() - 8 * 86400
    then, now = LinkSigner("a secret", clock=lambda: eight_days_ago), LinkSigner("a secret")
    with pytest.raises(TokenError, match="confirm link has expired"):
        now.read(CONFIRM, then.make(CONFIRM, PAYLOAD))
    assert now.read(UNSUBSCRIBE, then.make(UNSUBSCRIBE, PAYLOAD)) == PAYLOAD  # lives a year


def test_without_a_setting_every_process_shares_the_secret_kept_in_the_database(
    store: Store, database_url: str
) -> None:
    token = link_signer(Settings(), store).make(MANAGE, PAYLOAD)
    other = open_store(database_url)  # as another worker process would
    try:
        assert link_signer(Settings(), other).read(MANAGE, token) == PAYLOAD
    finally:
        other.close()
    with pytest.raises(TokenError):
        link_signer(Settings(secret_key="set by the admin"), store).read(MANAGE, token)
