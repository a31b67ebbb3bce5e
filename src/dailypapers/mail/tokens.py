"""Signed, expiring links in mails: confirm a subscription, unsubscribe, manage it; confirm
an account's address, reset a forgotten password.

A token names the subscriber by id and address, so a token for a deleted subscriber never
acts on a later one that happens to get the same id. The key is `secret_key` or, when that
setting is unset, one made once and kept in the database: every process and machine agrees.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from dailypapers.config import Settings
from dailypapers.storage import Store
from dailypapers.storage.secret import keep_signing_secret, stored_signing_secret

CONFIRM, UNSUBSCRIBE, MANAGE = "confirm", "unsubscribe", "manage"
CONFIRM_ADDRESS, RESET = "address confirmation", "password reset"
LIFETIMES = {
    CONFIRM: timedelta(days=7),
    CONFIRM_ADDRESS: timedelta(days=2),
    RESET: timedelta(hours=1),
    # Old digests keep a working one-click link for a long while (RFC 8058 clients use it).
    UNSUBSCRIBE: timedelta(days=365),
    MANAGE: timedelta(days=60),
}


class TokenError(ValueError):
    """A link that was tampered with, is for something else, or has expired; one line."""


class LinkSigner:
    """Makes and reads the tokens of one purpose each; `clock` (seconds) is for tests."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        class Clocked(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret, salt=f"dailypapers.{purpose.replace(' ', '-')}", signer=Clocked
            )
            for purpose in LIFETIMES
        }

    def make(self, purpose: str, payload: dict[str, Any]) -> str:
        return str(self._serializers[purpose].dumps(payload))

    def read(self, purpose: str, token: str) -> dict[str, Any]:
        lifetime = int(LIFETIMES[purpose].total_seconds())
        try:
            payload = self._serializers[purpose].loads(token, max_age=lifetime)
        except SignatureExpired:
            raise TokenError(f"this {purpose} link has expired") from None
        except BadData:
            raise TokenError(f"this {purpose} link is not valid (was it cut short?)") from None
        if not isinstance(payload, dict):
            raise TokenError(f"this {purpose} link is not valid")
        return payload


def link_signer(settings: Settings, store: Store) -> LinkSigner:
    """The signer for this site's links."""
    return LinkSigner(site_secret(settings, store))


def site_secret(settings: Settings, store: Store) -> str:
    """`secret_key`, or the database's own (made on first use): what signs links and keys
    the site's CSRF tokens."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    with store.read() as connection:
        secret = stored_signing_secret(connection)
    if secret is None:
        with store.transaction() as connection:
            secret = keep_signing_secret(connection, secrets.token_urlsafe(48))
    return secret
