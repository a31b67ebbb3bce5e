"""A site over a real database, and users signed in the way the site signs them in."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.users import add_session, create_user
from dailypapers.web import create_app
from dailypapers.web.deps import SESSION_COOKIE, token_hash


@pytest.fixture
def site(store: Store) -> TestClient:
    return TestClient(create_app(Settings(), store))


@pytest.fixture
def sign_in(store: Store) -> Callable[..., User]:
    """Make a user and give `client` a live session cookie for them (no password involved)."""

    def make(client: TestClient, username: str = "ada", is_admin: bool = False) -> User:
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        with store.transaction() as connection:
            user = create_user(connection, username, "unused", now, is_admin)
            add_session(connection, token_hash(token), user.id, now, now + timedelta(days=1))
        client.cookies.set(SESSION_COOKIE, token)
        return user

    return make


def csrf(client: TestClient) -> str:
    """The CSRF token the site gives this client now (bound to its session, if it has one),
    read from a form as a browser would."""
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
