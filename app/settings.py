"""Configuration from the environment (and an optional .env file), validated once at start."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.sync.precedence import DEFAULT_ORDER, FAMILIES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All settings; read from environment variables of the same name (case-insensitive)."""

    # The project's .env, whatever the working directory (the CLI and the server read the
    # same settings), then one in the working directory, which wins.
    model_config = SettingsConfigDict(env_file=(PROJECT_ROOT / ".env", ".env"), extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostGIS database. Unset: the embedded local cluster.",
    )
    database_replica_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a streaming replica of DATABASE_URL's database: reads "
        "go there once it has replayed the latest data version.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Folder of the downloaded source files (see data/boundaries/manifest.csv).",
    )
    data_mirror_url: str | None = Field(
        default=None,
        description="Base URL of a mirror of the data directory: `dtm-geo data fetch` takes "
        "each missing file from <mirror>/<path> instead of its publisher.",
    )
    data_fetch_attempts: int = Field(
        default=5, ge=1, le=20, description="Tries per file (pauses of 1, 2, 4... s between)."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="uvicorn worker processes for `make run` (default: one per core).",
    )
    access_log: bool = Field(default=True, description="Log every request (uvicorn's log).")

    local_db_dir: Path = PROJECT_ROOT / ".pgdata"
    local_db_port: int = Field(default=54329, ge=1024, le=65535)
    local_db_name: str = "dtm_geo"
    local_db_user: str = "dtm_geo"

    cors_origins: list[str] = Field(default_factory=list)
    read_key_required: bool = Field(default=False, description="Reads need a key too.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # Workbook uploads, checked before they are parsed (app.ingest.limits).
    xlsx_max_member_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024, description="Largest inflated member of an XLSX."
    )
    xlsx_max_total_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="Largest inflated XLSX, all members."
    )
    xlsx_max_ratio: float = Field(
        default=100, ge=1, description="Largest compression ratio of an XLSX member of 1 MB+."
    )
    xlsx_max_rows: int = Field(
        default=1_048_576, ge=1, description="Most rows of a worksheet (Excel's own limit)."
    )
    xlsx_max_columns: int = Field(
        default=16_384, ge=1, description="Most cells in a worksheet row (Excel's limit)."
    )
    response_cache_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=0,
        description="Bytes of rendered answers (gzipped copies included) each process keeps.",
    )
    stale_if_error: float = Field(
        default=300,
        ge=0,
        description="Seconds cached answers are still served, marked stale, while the "
        "database cannot be reached.",
    )
    statement_timeout: float = Field(
        default=30.0, ge=0, description="Seconds a read's SQL statement may run (0: no limit)."
    )
    ingest_statement_timeout: float = Field(
        default=900.0,
        ge=0,
        description="Seconds a statement of a write or of the CLI may run (0: no limit).",
    )
    lock_timeout: float = Field(
        default=30.0, ge=0, description="Seconds a statement may wait for a lock (0: no limit)."
    )
    idle_in_transaction_timeout: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a connection may sit idle inside a transaction before PostgreSQL "
        "ends its session (a killed importer's locks are freed then).",
    )
    write_lock_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds an API write waits for its round's lock before answering 409.",
    )
    rate_limit_read: float = Field(
        default=0,
        ge=0,
        description="Reads a minute per key, or per client address without one (0: no limit).",
    )
    rate_limit_ingest: float = Field(
        default=0, ge=0, description="Writes a minute per key needing the ingest scope (0: off)."
    )
    rate_limit_admin: float = Field(
        default=0, ge=0, description="Writes a minute per key needing the admin scope (0: off)."
    )
    rate_limit_keys: dict[str, dict[Literal["read", "ingest", "admin"], float]] = Field(
        default_factory=dict,
        description='Rates of named keys, by scope: {"dtm-libya-team": {"ingest": 120}}.',
    )
    rate_limit_burst: float = Field(
        default=10,
        gt=0,
        description="Seconds' worth of a rate that may be spent at once (the bucket's size).",
    )
    key_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Seconds a process trusts a verified read key before checking it again.",
    )
    data_version_ttl: float = Field(
        default=1.0,
        ge=0,
        description="Seconds a process may serve cached responses of the "
        "previous data version after another process wrote new data.",
    )

    dtm_api_url: str = Field(
        default="https://dtmapi.iom.int",
        description="Base URL of the DTM API that `dtm-geo sync dtm-api` reads (v3 paths).",
    )
    dtm_api_key: SecretStr | None = Field(
        default=None,
        description="The DTM API subscription key (sent as Ocp-Apim-Subscription-Key).",
    )
    hdx_url: str = Field(
        default="https://data.humdata.org",
        description="Base URL of the CKAN (HDX) that `dtm-geo sync hdx` reads "
        "(/api/3/action/package_show); its datasets are in data/catalog/hdx_datasets.csv.",
    )
    sync_attempts: int = Field(
        default=4, ge=1, le=20, description="Tries per request of a sync (5xx, timeouts, 429)."
    )
    sync_backoff: float = Field(
        default=2.0, ge=0, description="Seconds before a sync's second try; doubled after each."
    )
    sync_timeout: float = Field(default=60.0, gt=0, description="Seconds per sync request.")
    sync_precedence: list[Literal["posted", "hdx", "dtm-api"]] = Field(
        default_factory=lambda: list(DEFAULT_ORDER),
        description="Source families, strongest first: a sync never overwrites a round "
        "holding a stronger family's figures (app.sync.precedence).",
    )

    @field_validator("sync_precedence")
    @classmethod
    def _every_family_once(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(FAMILIES):
            raise ValueError("must list posted, hdx and dtm-api, each once, strongest first")
        return value

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            raise ValueError("must be a postgresql:// URL of a PostGIS database")
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; this project ships psycopg2.
        for bare in ("postgres://", "postgresql://"):
            if value.startswith(bare):
                value = "postgresql+psycopg2://" + value.removeprefix(bare)
        return value

    @property
    def uses_local_db(self) -> bool:
        return self.database_url is None

    @property
    def local_database_url(self) -> str:
        return (
            f"postgresql+psycopg2://{self.local_db_user}@127.0.0.1:"
            f"{self.local_db_port}/{self.local_db_name}"
        )

    @property
    def effective_database_url(self) -> str:
        """The URL the service talks to: DATABASE_URL, else the embedded cluster's."""
        return self.database_url or self.local_database_url


@lru_cache
def get_settings() -> Settings:
    """Settings for this process, read on first use (never at import time)."""
    return Settings()
