"""Settings: every knob with a default and a help text, read from DAILYPAPERS_* variables."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dailypapers"))


class Settings(BaseSettings):
    """Built once per process (by the CLI or a test) and passed down; never a module global."""

    model_config = SettingsConfigDict(env_prefix="DAILYPAPERS_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory holding the SQLite database and indexes.",
    )
    db: str | None = Field(
        default=None,
        description="Database URL (sqlite:///path or postgresql://…); default: SQLite in data_dir.",
    )
    oai_url: str = Field(
        default="https://oaipmh.arxiv.org/oai",
        description="OAI-PMH endpoint harvested by `ingest oai`.",
    )
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query",
        description="arXiv query API endpoint used by `ingest arxiv`.",
    )
    polite_delay: float = Field(
        default=3.0,
        description="Seconds to wait between requests to arXiv, as its terms of use ask.",
    )
    http_timeout: float = Field(default=60.0, description="Seconds before an HTTP request fails.")
    http_retries: int = Field(
        default=5, description="Times a 503/429/connection failure is retried before giving up."
    )
    batch_size: int = Field(
        default=2000, description="Papers written per transaction in bulk imports."
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8000, description="Port `serve` listens on.")

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'dailypapers.db'}"
