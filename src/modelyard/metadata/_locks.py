"""Per-name locks held for one transaction: version numbers and creations without races.

A new version takes the highest number of its name plus one, and a name's parent row
(an experiment, a model) is created by whoever first needs it. Two writers that read
"no such row" or "highest is 7" at the same moment would both write the same thing,
and the unique constraint would refuse one of them with a raw database error. So a
writer first holds the name's lock until its transaction ends:

- PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``) on a
  64-bit key hashed from the kind and the name, released at commit or rollback.
  Under READ COMMITTED every later statement of the holder sees what the previous
  holder committed. Writers of other names do not wait (unless two names share a
  key, which only makes them take turns).
- SQLite: nothing more to do. Every transaction starts with ``BEGIN IMMEDIATE``
  (:mod:`modelyard.metadata._engine`), so it already holds the database's single
  write lock, and reads inside it see every committed write.

Other databases are not supported as metadata stores; there the lock is a no-op and
the unique constraints alone keep the data right.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

__all__ = ["lock_name"]


def lock_name(session: Session, kind: str, name: str) -> None:
    """Hold the lock of ``kind``/``name`` until ``session``'s transaction ends.

    Take it before reading what the write depends on (the highest version, whether
    the row exists): a reader that took it after would still act on a stale answer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(func.pg_advisory_xact_lock(_key(kind, name))))


def _key(kind: str, name: str) -> int:
    digest = hashlib.sha256(f"{kind}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
