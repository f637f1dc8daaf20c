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
    """The URL with its password hidden, for messages and ``modelyard info``.

    A URL SQLAlchemy cannot parse (a typo in the port, a stray character) is still
    shown, with everything between the user's ``:`` and the last ``@`` hidden: a
    message about a bad URL must not print the password it holds.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _mask_userinfo(url)


def _mask_userinfo(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, separator, userinfo = head.partition("://")
    if not separator:
        scheme, userinfo = "", head
    user, colon, _ = userinfo.partition(":")
    if not colon:
        return url
    return f"{scheme}{separator}{user}:***@{tail}"


def connect_engine(url: str, *, busy_timeout_ms: int = 60_000, check: bool = True) -> Engine:
    """An engine for ``url``, checked by one round trip when ``check`` is true.

    Raises:
        ConfigurationError: the URL is malformed or names an unknown driver.
        StorageError: the database cannot be reached.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise ConfigurationError(
            f"bad database URL {redact_url(url)!r}: it is not a SQLAlchemy URL "
            "(dialect+driver://user:password@host:port/database)"
        ) from exc
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
