"""The tracking database as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._cache import cached_client
from clients.embedded_postgres import embedded_postgres_dsn
from clients.tracking_db import TrackingDatabase


class TrackingDatabaseBlock(Block):
    """Where tracking IDs, Box uploads and audit events are kept (PostgreSQL).

    Give a DSN for a real server. Without one, an embedded PostgreSQL is started from the
    ``pgserver`` wheel with its data under ``embedded_data_dir`` (demo and tests only).
    Migrations are applied when the client is first built.

    Example:
        ```python
        from blocks.tracking_database import TrackingDatabaseBlock

        db = TrackingDatabaseBlock.load("tracking-db").get_client()
        db.ping()
        ```
    """

    _block_type_name = "Tracking Database"
    _block_type_slug = "content-scaling-tracking-database"
    _description = "PostgreSQL tracking database (DSN), or an embedded PostgreSQL when none is set."

    dsn: SecretStr | None = Field(
        default=None,
        description="libpq connection string, e.g. postgresql://user:password@host:5432/tracking.",
    )
    embedded_data_dir: str = Field(
        default=".data/postgres", description="Data directory of the embedded PostgreSQL used when no DSN is set."
    )
    max_connections: int = Field(default=20, description="Connections in this process's pool.")

    def get_client(self) -> TrackingDatabase:
        """The tracking database client (one pool per process), migrated to the latest schema."""

        def build() -> TrackingDatabase:
            dsn = self.dsn.get_secret_value() if self.dsn else embedded_postgres_dsn(self.embedded_data_dir)
            db = TrackingDatabase(dsn, max_connections=self.max_connections)
            db.migrate()
            return db

        return cached_client(self, build)
