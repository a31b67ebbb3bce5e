"""`dailypapers user …`: add, list, set-admin, token and ban, on this test's database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from dailypapers.accounts import Banned, log_in, token_hash
from dailypapers.cli import app
from dailypapers.storage import open_store
from dailypapers.storage.users import api_tokens_of, session_user, token_user

PASSWORD = "correct horse battery"


@pytest.fixture
def user_cli(database_url: str) -> Callable[..., Result]:
    """`dailypapers user ARGS… --db URL`, with `input` as its stdin."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, ["user", *args, "--db", database_url], input=input)

    return run


def users_json(user_cli: Callable[..., Result]) -> list[dict]:
    result = user_cli("list", "--json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_add_reads_the_password_from_stdin(user_cli, database_url: str) -> None:
    result = user_cli("add", "Ada", "--admin", "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == "added admin ada"
    store = open_store(database_url)
    assert log_in(store, "ada", PASSWORD, None).user.is_admin
    store.close()


def test_add_asks_twice_for_the_password(user_cli) -> None:
    differ = user_cli("add", "ada", input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert differ.exit_code == 0, differ.output
    assert "Error: The two entered values do not match." in differ.output
    assert [u["username"] for u in users_json(user_cli)] == ["ada"]


def test_add_refusals_are_one_line(user_cli) -> None:
    short = user_cli("add", "ada", "--password-stdin", input="short\n")
    assert (short.exit_code, short.stderr) == (1, "error: a password is 8 to 256 characters long\n")
    user_cli("add", "ada", "--password-stdin", input=f"{PASSWORD}\n")
    taken = user_cli("add", "ADA", "--password-stdin", input=f"{PASSWORD}\n")
    assert (taken.exit_code, taken.stderr) == (1, "error: the username ada is taken\n")
    bad = user_cli("add", "a b", "--password-stdin", input=f"{PASSWORD}\n")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: a username is 3 to 32")


def test_list_set_admin_and_ban(user_cli) -> None:
    for name in ("ada", "bob"):
        user_cli("add", name, "--password-stdin", input=f"{PASSWORD}\n")
    assert user_cli("set-admin", "bob").stderr == "bob is now an admin\n"
    assert user_cli("ban", "ada").stderr == "ada is banned\n"
    listed = users_json(user_cli)
    assert [(u["username"], u["is_admin"], u["banned"]) for u in listed] == [
        ("ada", False, True),
        ("bob", True, False),
    ]
    assert all(u["created_at"] for u in listed)
    lines = user_cli("list").stdout.splitlines()
    assert [line.split("\t")[0::2] for line in lines] == [["ada", "banned"], ["bob", "is_admin"]]
    assert user_cli("set-admin", "bob", "--revoke").stderr == "bob is no longer an admin\n"
    assert user_cli("ban", "ada", "--revoke").stderr == "ada is no longer banned\n"
    assert not any(u["is_admin"] or u["banned"] for u in users_json(user_cli))
    missing = user_cli("set-admin", "nobody")
    assert (missing.exit_code, missing.stderr) == (1, "error: no user named nobody\n")


def test_token_prints_a_working_api_token(user_cli, database_url: str) -> None:
    user_cli("add", "ada", "--password-stdin", input=f"{PASSWORD}\n")
    first = user_cli("token", "ada", "--name", "laptop")
    second = user_cli("token", "ADA")
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    token = first.stdout.strip()
    assert len(token) >= 43 and token != second.stdout.strip()
    store = open_store(database_url)
    with store.read() as connection:
        user = token_user(connection, token_hash(token))
        assert user is not None and user.username == "ada"
        assert [name for name, _ in api_tokens_of(connection, user.id)] == ["laptop", "cli"]
    user_cli("ban", "ada")
    with pytest.raises(Banned):
        log_in(store, "ada", PASSWORD, None)
    store.close()
    missing = user_cli("token", "nobody")
    assert (missing.exit_code, missing.stderr) == (1, "error: no user named nobody\n")


def test_token_list_and_revoke_by_name(user_cli, database_url: str) -> None:
    user_cli("add", "ada", "--password-stdin", input=f"{PASSWORD}\n")
    laptop = user_cli("token", "ada", "--name", "laptop").stdout.strip()
    ci = user_cli("token", "ada", "--name", "ci").stdout.strip()
    taken = user_cli("token", "ada", "--name", "ci")
    assert (taken.exit_code, taken.stderr) == (
        1,
        "error: you have a token named ci already: revoke it or pick another name\n",
    )
    listed = user_cli("token", "ada", "--list")
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["laptop", "ci"]
    revoked = user_cli("token", "ADA", "--revoke", "laptop")
    assert (revoked.exit_code, revoked.stderr) == (0, "revoked ada's token laptop\n")
    assert user_cli("token", "ada", "--list").stdout.split("\t")[0] == "ci"
    again = user_cli("token", "ada", "--revoke", "laptop")
    assert (again.exit_code, again.stderr) == (1, "error: no token named laptop\n")
    store = open_store(database_url)
    with store.read() as connection:
        assert token_user(connection, token_hash(laptop)) is None
        assert token_user(connection, token_hash(ci)) is not None
    store.close()


def test_set_password_ends_sessions_and_revokes_tokens(user_cli, database_url: str) -> None:
    user_cli("add", "ada", "--password-stdin", input=f"{PASSWORD}\n")
    token = user_cli("token", "ada").stdout.strip()
    store = open_store(database_url)
    session = log_in(store, "ada", PASSWORD, None).session
    typed = user_cli(
        "set-password", "ada", input="a new secret!\nanother\na new secret!\na new secret!\n"
    )
    assert typed.exit_code == 0, typed.output
    assert "Error: The two entered values do not match." in typed.output
    assert typed.stderr.endswith("set ada's password; their sessions and tokens are gone\n")
    with store.read() as connection:
        assert token_user(connection, token_hash(token)) is None
        assert session_user(connection, token_hash(session), datetime.now(UTC)) is None
    assert log_in(store, "ada", "a new secret!", None).user.username == "ada"
    piped = user_cli("set-password", "ADA", "--password-stdin", input="from a script\n")
    assert piped.exit_code == 0 and log_in(store, "ada", "from a script", None)
    store.close()
    short = user_cli("set-password", "ada", "--password-stdin", input="short\n")
    assert (short.exit_code, short.stderr) == (1, "error: a password is 8 to 256 characters long\n")
    missing = user_cli("set-password", "nobody", "--password-stdin", input=f"{PASSWORD}\n")
    assert (missing.exit_code, missing.stderr) == (1, "error: no user named nobody\n")
