"""What time it is: the system's clock, or one that tests and rehearsals set in a file."""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dailypapers.config import Settings

# Whoever sets the file may be between emptying it and writing the new time (write_text):
# a read that finds no time is tried again this often, this long, before it is an error.
REREAD_S = 0.02
REREAD_FOR_S = 0.2


class ClockError(OSError):
    """The clock file is missing or holds no time; one line, naming the file."""


@dataclass(frozen=True)
class Clock:
    file: Path | None = None  # holds an ISO 8601 time; None: the system clock

    def now(self) -> datetime:
        """In UTC, which is what the database is given (SQLite drops offsets). ClockError
        when the file holds no time for REREAD_FOR_S."""
        if self.file is None:
            return datetime.now(UTC)
        deadline = time.monotonic() + REREAD_FOR_S
        while True:
            try:
                moment = _read(self.file)
            except ClockError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(REREAD_S)
                continue
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    @property
    def is_set_by_hand(self) -> bool:
        """Whether time moves in jumps: then waits are short, so a jump is seen at once."""
        return self.file is not None


def _read(file: Path) -> datetime:
    try:
        text = file.read_text(errors="replace").strip()
    except OSError as error:
        reason = f"clock file: {error.strerror or error}"
        raise ClockError(error.errno or errno.EIO, reason, str(file)) from None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        reason = f"the clock file holds no ISO 8601 time: {text!r:.60}"
        raise ClockError(errno.EINVAL, reason, str(file)) from None


def clock_of(settings: Settings) -> Clock:
    return Clock(settings.clock_file)
