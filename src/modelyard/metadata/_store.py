"""The metadata store: an engine, sessions, and the schema kept at head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from modelyard.errors import ConfigurationError, InvalidInputError, StorageError
from modelyard.metadata._engine import connect_engine, redact_url
from modelyard.metadata._migrate import SCHEMA_HEAD, current_revision, upgrade

__all__ = ["MetadataStore"]


class MetadataStore:
    """Sessions on the workspace database.

    Args:
        url: SQLAlchemy URL (SQLite file or PostgreSQL).
        busy_timeout_ms: how long a SQLite writer waits for another writer.
        auto_upgrade: create the schema of an empty database at head. A database
            at an older revision is never upgraded behind the user's back:
            ``modelyard db upgrade`` does that.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 60_000, auto_upgrade: bool = True):
        self.url = url
        self.engine: Engine = connect_engine(url, busy_timeout_ms=busy_timeout_ms)
        self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
        if auto_upgrade and self.revision() is None:
            self.upgrade()

    @property
    def display_url(self) -> str:
        """The URL with its password hidden."""
        return redact_url(self.url)

    def revision(self) -> str | None:
        """The schema revision the database is at (``None``: empty)."""
        return current_revision(self.engine)

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision``."""
        upgrade(self.engine, revision)

    def check_current(self) -> None:
        """Refuse to work on a database whose schema is not at this modelyard's head.

        Raises:
            ConfigurationError: the schema is older (or newer) than this code.
        """
        at, head = self.revision(), SCHEMA_HEAD
        if at != head:
            raise ConfigurationError(
                f"database {self.display_url} is at schema revision {at}, this modelyard "
                f"needs {head}: run `modelyard db upgrade`"
            )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error.

        Raises:
            StorageError: the database failed (locked past the timeout, gone away).
        """
        session = self._session_factory()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            # Named, so "database or disk is full" says which disk.
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StorageError(f"metadata database {self.display_url}: {reason}") from exc
        except (OverflowError, DataError) as exc:
            # A number no column can hold (the SQLite driver refuses integers past
            # 64 bits, PostgreSQL past the column's range): bad input, not a crash.
            # Callers that know which value it was check it before and name it.
            session.rollback()
            reason = str(exc.orig if isinstance(exc, DataError) else exc).strip().splitlines()[0]
            raise InvalidInputError(f"a value is out of the database's range: {reason}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def counts(self) -> dict[str, int]:
        """How many of each noun the workspace holds, for ``modelyard info``."""
        from sqlalchemy import distinct, func, select

        from modelyard.metadata import _tables as t

        queries = {
            "datasets": select(func.count(distinct(t.DatasetVersionRow.name))),
            "dataset_versions": select(func.count()).select_from(t.DatasetVersionRow),
            "experiments": select(func.count()).select_from(t.ExperimentRow),
            "runs": select(func.count()).select_from(t.RunRow),
            "models": select(func.count()).select_from(t.ModelRow),
            "model_versions": select(func.count()).select_from(t.ModelVersionRow),
            "endpoints": select(func.count()).where(t.EndpointRow.deleted_at.is_(None)),
            "jobs": select(func.count()).select_from(t.JobRow),
        }
        with self.session() as session:
            return {noun: int(session.scalar(query) or 0) for noun, query in queries.items()}

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
