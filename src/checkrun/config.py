"""Settings from CHECKRUN_* environment variables (flags of the CLI set the same variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHECKRUN_", extra="ignore")

    data_dir: Path = Path("checkrun-data")
    database_url: str | None = None
    storage_url: str | None = None
    # Endpoint of an S3-compatible store (MinIO, moto, ...); credentials come from the usual
    # AWS_* variables.
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Absolute base used in pagination links and file URLs; derived from the request when unset.
    public_url: str | None = None
    max_upload_bytes: int = 100 * 1024 * 1024
    # `storage gc` leaves stored bytes and unfinished uploads younger than this alone: they may
    # belong to an upload whose record is not committed yet.
    gc_grace_seconds: int = 3600

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
