"""Connections to the metadata database: SQLite tuned for several writers, or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE``: a transaction that reads and then writes would otherwise be
refused at once (``database is locked``) when another process wrote in between,
whatever the timeout. Taking the write lock up front makes writers queue instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from modelyard.errors import ConfigurationError, StorageError

__all__ = ["connect_engine", "redact_url"]


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and ``modelyard info``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def connect_engine(url: str, *, busy_timeout_ms: int = 60_000, check: bool = True) -> Engine:
    """An engine for ``url``, checked by one round trip when ``check`` is true.

    Raises:
        ConfigurationError: the URL is malformed or names an unknown driver.
        StorageError: the database cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"bad database URL {url!r}: {exc}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(url, parsed.database, busy_timeout_ms)
        else:
            engine = create_engine(url, pool_pre_ping=True, future=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " (install modelyard[postgres])" if "postgres" in parsed.drivername else ""
        raise ConfigurationError(f"no database driver for {redact_url(url)}: {exc}{hint}") from exc
    except ArgumentError as exc:
        raise ConfigurationError(f"bad database URL {redact_url(url)}: {exc}") from exc
    if check:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StorageError(f"cannot connect to database {redact_url(url)}: {reason}") from exc
    return engine


def _sqlite_engine(url: str, database: str | None, busy_timeout_ms: int) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        future=True,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
