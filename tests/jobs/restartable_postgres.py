"""A PostgreSQL server of its own that a test can stop and start again on the same port and
data directory (the session's server, tests/postgres_server.py, only starts and stops once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from tests.postgres_server import (
    _SERVER_SETTINGS,
    SUPERUSER,
    _bin_dir_for,
    _can_traverse,
    _child_env,
    _ensure_unprivileged_user,
    _free_port,
    _log_tail,
    _stop,
    _user_kwargs,
    _wait_ready,
)


class RestartablePostgres:
    def __init__(self, base_dir: Path) -> None:
        self.run_as = _ensure_unprivileged_user() if os.geteuid() == 0 else None
        self.bin_dir = _bin_dir_for(self.run_as)
        # Reachable for the server's user (pytest's tmp_path is 0700 and may not be).
        self.work_dir = Path(tempfile.mkdtemp(prefix="postgres-restartable-"))
        self.work_dir.chmod(0o711)
        self.data_dir = self.work_dir / "data"
        self.log_path = self.work_dir / "postgres.log"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        if self.run_as is not None and not _can_traverse(self.work_dir, self.run_as):
            raise RuntimeError(f"{self.work_dir} is not reachable for {self.run_as.name}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> RestartablePostgres:
        self.data_dir.mkdir(mode=0o700)
        if self.run_as is not None:
            os.chown(self.data_dir, self.run_as.uid, self.run_as.gid)
        with open(self.log_path, "ab") as log:
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    *("-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust"),
                    *("--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_child_env(self.run_as),
                cwd=str(self.data_dir),
                timeout=120,
                check=True,
                **_user_kwargs(self.run_as),
            )
        self.start()
        return self

    def start(self) -> None:
        settings = [arg for k, v in _SERVER_SETTINGS.items() for arg in ("-c", f"{k}={v}")]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
                + settings,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_child_env(self.run_as),
                cwd=str(self.data_dir),
                **_user_kwargs(self.run_as),
            )
        try:
            _wait_ready(self.process, self.port, self.log_path)
        except Exception as error:
            raise RuntimeError(f"{error}\n{_log_tail(self.log_path)}") from error

    def stop(self) -> None:
        """A fast shutdown: every session is cut, as when the server restarts."""
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.work_dir, ignore_errors=True)
