"""Settings from CHECKRUN_* environment variables and from a `.env` file in the working
directory (the environment wins over the file; flags of the CLI set the variables)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE = ".env"


def env_value(name: str) -> str | None:
    """A CHECKRUN_* variable as Settings would read it: the environment's, else the `.env`
    file's (for the few flags whose defaults are read before Settings are)."""
    found = os.environ.get(name)
    if found is None and Path(ENV_FILE).is_file():
        found = dotenv_values(ENV_FILE).get(name)
    return found or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHECKRUN_", env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("checkrun-data")
    database_url: str | None = None
    storage_url: str | None = None
    # Endpoint of an S3-compatible store (MinIO, moto, ...); credentials come from the usual
    # AWS_* variables.
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    # Prefix of every key checkrun writes to Redis (several deployments may share one Redis).
    redis_prefix: str = "checkrun"
    # Requests per minute per user (per client IP without a token); 0 turns the limit off.
    rate_limit_per_minute: int = 600
    # How long a process trusts what it read about a token and a membership (0: not at all).
    # A change made in this process is seen at once; one made in another, within this time.
    auth_cache_seconds: float = 2.0
    # PostgreSQL: a pooled connection idle longer than this is pinged before use (one that
    # the server or the network dropped meanwhile is replaced, not handed to a request).
    db_ping_idle_seconds: float = 10.0
    # Lifetimes of password-grant tokens (the docs say 6 months, refresh tokens 12 months).
    oauth_access_token_seconds: int = 15_552_000
    oauth_refresh_token_seconds: int = 31_536_000
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # `--workers N`: the supervisor replaces a worker that leaves its health check unanswered
    # this long. uvicorn's 5 s replaced busy workers (and ones still starting on a loaded
    # machine: the check starts before the app is imported).
    worker_healthcheck_seconds: int = 60
    # An idle keep-alive connection is closed after this long. It must outlast the pools of
    # clients (httpx drops idle connections after 5 s, requests never does): with uvicorn's
    # 5 s a request sent as the server closed met "server disconnected".
    keep_alive_seconds: int = 75
    # Behind a proxy: the addresses whose X-Forwarded-For/-Proto are believed (comma-separated,
    # `*` for any; unset: uvicorn's default, 127.0.0.1), and the path prefix the proxy serves
    # checkrun under (links built from requests carry it).
    forwarded_allow_ips: str | None = None
    root_path: str = ""
    # Absolute base used in pagination links and file URLs; derived from the request when unset.
    public_url: str | None = None
    max_upload_bytes: int = 100 * 1024 * 1024
    # Every other request body (JSON, forms): larger ones get 413 before they are buffered.
    max_json_bytes: int = 1024 * 1024
    # `storage gc` leaves stored bytes and unfinished uploads younger than this alone: they may
    # belong to an upload whose record is not committed yet.
    gc_grace_seconds: int = 3600
    # Webhooks: the HMAC key of every delivery (unset: one random key per organization, kept
    # in the database and shown by `checkrun webhooks secret`).
    webhook_secret: str | None = None
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 10
    # Retry n waits about backoff * 2**(n-1) seconds (with jitter), at most backoff_max.
    webhook_backoff_seconds: float = 5.0
    webhook_backoff_max_seconds: float = 3600.0
    # How often each process looks for due deliveries (it is also woken by its own commits).
    webhook_poll_seconds: float = 2.0
    webhook_batch_size: int = 20
    webhook_concurrency: int = 8
    # Refuse to deliver to loopback, private, link-local and reserved addresses.
    webhook_block_private: bool = False

    # The web app: how long a browser stays signed in, how long a one-time sign-in link is
    # good for, and how many sign-in attempts an address (or an email) gets per 15 minutes.
    web_session_seconds: int = 43_200
    web_sign_in_link_seconds: int = 3600
    web_sign_in_attempts: int = 10

    # Email: `smtp://user:pass@host:port` (`smtps://` for implicit TLS, `?starttls=true` for
    # STARTTLS). Unset: nothing is sent, and the web app shows invite and reset links instead.
    smtp_url: str | None = None
    # A PEM file of the CAs to trust for the SMTP server's certificate instead of the system's
    # (a relay with a private CA or a self-signed certificate).
    smtp_ca_file: Path | None = None
    mail_from: str = "checkrun <checkrun@localhost>"
    mail_timeout_seconds: float = 30.0
    mail_max_attempts: int = 12
    mail_backoff_seconds: float = 30.0
    mail_backoff_max_seconds: float = 3600.0
    mail_poll_seconds: float = 5.0
    mail_batch_size: int = 20
    # SMTP connections in flight per process (one per message).
    mail_concurrency: int = 4

    # The scheduler (reminders, digests, expiring tasks, auto-complete and auto-archive): how
    # often each process looks for due work, and how many rows one tick takes at most.
    scheduler_poll_seconds: float = 30.0
    scheduler_batch_size: int = 500
    # Logs of `checkrun serve`: `text` lines or `json` (one object a line), and whether each
    # request gets an access line (with its request id, route, status, duration and actor).
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True
    # Prometheus metrics at this path ("" turns them off); with a token, a scrape must send
    # `Authorization: Bearer <token>`.
    metrics_path: str = "/metrics"
    metrics_token: str | None = None
    # /api/ready: how long each dependency's check may take before it counts as down.
    ready_timeout_seconds: float = 2.0

    # Read the time from this file (one ISO 8601 instant) instead of the system clock: for
    # tests and rehearsals only.
    clock_file: Path | None = None

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'checkrun.db').resolve()}"

    @property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return f"file://{(self.data_dir / 'files').resolve()}"
