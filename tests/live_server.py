"""`python -m dailypapers serve` as a real process on a free loopback port, for the tests that
talk to the site over HTTP: released clients, concurrent voters, a browser."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, log: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve `database_url` (with extra `serve` options and environment) until the block ends;
    yields the base URL. The server's output goes to `log`, shown when it fails to start."""
    with server_process(database_url, log, *options, env=env) as (_server, url):
        yield url


@contextmanager
def server_process(
    database_url: str, log: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """As `running_server`, yielding the process too, for tests that stop it themselves."""
    port = free_port()
    command = [sys.executable, "-m", "dailypapers", "serve", *options]
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--db", database_url],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: workers stop with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, url, log)
        yield server, url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the server did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")
