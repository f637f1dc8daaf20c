"""The metadata store: SQLAlchemy 2 on SQLite or PostgreSQL, migrated with Alembic."""

from modelyard.metadata._actor import actor_name
from modelyard.metadata._engine import connect_engine, redact_url
from modelyard.metadata._locks import lock_name
from modelyard.metadata._migrate import current_revision, head_revision, upgrade
from modelyard.metadata._store import MetadataStore

__all__ = [
    "MetadataStore",
    "actor_name",
    "connect_engine",
    "current_revision",
    "head_revision",
    "lock_name",
    "redact_url",
    "upgrade",
]
