"""What time it is: the system's clock, or one that tests and rehearsals set in a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dailypapers.config import Settings


@dataclass(frozen=True)
class Clock:
    file: Path | None = None  # holds an ISO 8601 time; None: the system clock

    def now(self) -> datetime:
        """In UTC, which is what the database is given (SQLite drops offsets)."""
        if self.file is None:
            return datetime.now(UTC)
        moment = datetime.fromisoformat(self.file.read_text().strip())
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    @property
    def is_set_by_hand(self) -> bool:
        """Whether time moves in jumps: then waits are short, so a jump is seen at once."""
        return self.file is not None


def clock_of(settings: Settings) -> Clock:
    return Clock(settings.clock_file)
