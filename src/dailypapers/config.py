"""Settings: every knob with a default and a help text, read from DAILYPAPERS_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_PATTERN = rf"^\d+/({'|'.join(PERIODS)})$"  # "5/hour"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dailypapers"))


def _rate(default: str, what: str) -> Any:
    return Field(
        default=default,
        pattern=RATE_PATTERN,
        description=f"At most this many {what}, as COUNT/PERIOD (second, minute, hour, day).",
    )


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
    follow: str = Field(
        default="",
        description="Categories or whole archives the site keeps current from arXiv (cs.LG "
        "cs.CL, or cs), space- or comma-separated; seeds what admins change at run time. "
        "Empty: nothing is followed.",
    )
    arxiv_rss_url: str = Field(
        default="https://rss.arxiv.org/rss/",
        description="arXiv's listing feeds; the followed categories, joined by '+', are "
        "appended (https://rss.arxiv.org/rss/cs.CL+cs.LG).",
    )
    contact_email: str = Field(
        default="",
        description="The admins' address, named in the User-Agent of every request to arXiv "
        "and mailed when a job keeps failing.",
    )
    hf_daily: bool = Field(
        default=False,
        description="Import each day's Hugging Face daily papers, with their upvotes.",
    )
    hf_url: str = Field(
        default="https://huggingface.co/api/daily_papers",
        description="Hugging Face's daily papers endpoint (asked with ?date=YYYY-MM-DD).",
    )
    digest_wait_hours: int = Field(
        default=6,
        ge=0,
        le=23,
        description="Hours past the digest hour that digests wait for the day's announcement "
        "while arXiv fails; then they go out with what there is.",
    )
    job_lease: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a worker holds a job without renewing it; a job whose worker "
        "died is claimed again after this.",
    )
    job_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower than requests background jobs run (Unix nice: serve's "
        "jobs thread and the encoder threads it starts, and `worker` processes), so that "
        "indexing and embedding never starve readers; 0: the same.",
    )
    clock_file: Path | None = Field(
        default=None,
        description="For tests and rehearsals: read the time from this file (ISO 8601) "
        "instead of the system clock.",
    )
    polite_delay: float = Field(
        default=3.0,
        description="Seconds to wait between requests to arXiv, as its terms of use ask.",
    )
    http_timeout: float = Field(default=60.0, description="Seconds before an HTTP request fails.")
    http_retries: int = Field(
        default=5, description="Times a 503/429/connection failure is retried before giving up."
    )
    web_fetch_timeout: float = Field(
        default=12.0,
        description="Seconds a web request (a submitted paper) waits for arXiv in all, its "
        "place in the queue and retries included, before it answers 504.",
    )
    submissions_pending_per_user: int = Field(
        default=3,
        ge=1,
        description="Submissions one user may have waiting for arXiv at once (per `serve` "
        "process); one more is answered 429.",
    )
    shutdown_timeout: float = Field(
        default=5.0,
        description="Seconds `serve` lets requests in flight finish when stopping, then "
        "cancels them.",
    )
    batch_size: int = Field(
        default=2000, description="Papers written per transaction in bulk imports."
    )
    page_cache_mb: int = Field(
        default=64,
        ge=0,
        description="Megabytes of pages each `serve` worker keeps for anonymous readers (a "
        "paper's page is ~20 KB); 0 keeps none.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8000, description="Port `serve` listens on.")
    trusted_proxies: str = Field(
        default="",
        description="Addresses of the reverse proxies whose X-Forwarded-For/-Proto are "
        "believed (comma-separated IPs or networks, e.g. 127.0.0.1); empty: none, so a "
        "client's address is the connection's.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("dailypapers")),
        description="Where the encoder's ONNX export is kept (made on first use, ~90 MB).",
    )
    device: str = Field(
        default="cpu",
        description="Where the encoder runs: cpu (ONNX Runtime), or a torch device (cuda, mps).",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The site's public address, for the links in mails (no trailing slash).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the links in mails; unset: one is made once and kept in "
        "the database, so that every process and machine agrees.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that mails go through; unset: the site sends no mail, and its "
        "subscribe and password-reset pages say so.",
    )
    smtp_port: int = Field(default=25, description="Port of the SMTP server.")
    smtp_user: str | None = Field(default=None, description="SMTP user name, when it asks.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS (port 587)."
    )
    smtp_ssl: bool = Field(default=False, description="Speak SMTP over TLS from the start (465).")
    smtp_timeout: float = Field(default=30.0, description="Seconds before an SMTP command fails.")
    smtp_retries: int = Field(
        default=3,
        description="Times a transient SMTP failure (4xx, lost connection) is retried, waiting "
        "`smtp_retry_delay` seconds, then twice that, and so on.",
    )
    smtp_retry_delay: float = Field(
        default=2.0, description="Seconds before the first retry of a transient SMTP failure."
    )
    mail_from: str = Field(
        default="dailypapers <dailypapers@localhost>",
        description="The From of every mail: an address, optionally with a name.",
    )
    digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="Hour of the day, in each subscriber's time zone, at which `serve` mails "
        "digests (weekly ones on Mondays).",
    )

    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a request's line and headers; a slower "
        "connection is closed (slowloris).",
    )
    rate_limits: bool = Field(
        default=True,
        description="Enforce the rate limits below (429 with Retry-After); false turns them "
        "all off, for benchmarks and private deployments.",
    )
    rate_limit_signups_per_address: str = _rate("30/hour", "sign-ups from one address")
    rate_limit_votes_per_user: str = _rate("300/hour", "votes by one user")
    rate_limit_votes_per_address: str = _rate("2000/hour", "votes from one address")
    rate_limit_comments_per_user: str = _rate("30/hour", "comments (new or edited) by one user")
    rate_limit_comments_per_address: str = _rate("200/hour", "comments from one address")
    rate_limit_submissions_per_user: str = _rate("30/hour", "paper submissions by one user")
    rate_limit_submissions_per_address: str = _rate("100/hour", "submissions from one address")
    rate_limit_confirmations_per_address: str = _rate(
        "5/hour", "subscription confirmation mails asked for from one address"
    )
    rate_limit_confirmations_per_mailbox: str = _rate(
        "5/day", "confirmation mails to one mailbox (a+b@x and a.b@x count as ab@x)"
    )
    rate_limit_confirmations_per_site: str = _rate("100/hour", "confirmation mails in all")
    rate_limit_recommendations_per_address: str = _rate(
        "120/hour", "POST /recommend.json rankings asked for from one address"
    )
    rate_limit_password_resets_per_address: str = _rate(
        "10/hour", "password-reset requests from one address"
    )

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'dailypapers.db'}"


def base_url_warning(settings: Settings, mails: bool | None = None) -> str | None:
    """What to say once at start-up when mails will carry links to the default address
    (`mails`: this process writes mails; by default, when SMTP is set up)."""
    writes_mail = bool(settings.smtp_host) if mails is None else mails
    if not writes_mail or "base_url" in settings.model_fields_set:
        return None
    return (
        f"DAILYPAPERS_BASE_URL is not set: the links in mails go to {settings.base_url}, "
        "which only this machine can open; set it to the site's public address"
    )
