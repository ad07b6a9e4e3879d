"""Opening the SQLite file and running work on it without "database is locked" leaking out.

Settings: WAL (readers never block the writer and vice versa), ``synchronous=FULL`` (a commit
that returned survives power loss, not only a crash), foreign keys on, a busy timeout. Writes use
``BEGIN IMMEDIATE`` so a transaction takes the write lock up front instead of failing half way.
Any remaining SQLITE_BUSY is retried with backoff; past :data:`MAX_WAIT_S` it becomes one clear
:class:`StoreBusyError` line. Other SQLite failures become :class:`StoreError`.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from digitpad.errors import StoreBusyError, StoreError
from digitpad.store import schema

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5_000  # SQLite's own wait for a lock, per statement
MAX_WAIT_S = 20.0  # our total patience, retries included, before StoreBusyError


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` is SQLite telling us another connection holds a lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def retrying(work: Callable[[], T], *, what: str, max_wait_s: float | None = None) -> T:
    """Run ``work`` (which must be safe to repeat, e.g. a whole transaction), retrying on busy.

    Raises:
        StoreBusyError: still busy after ``max_wait_s`` seconds.
        StoreError: any other SQLite failure, as one line.
    """
    if max_wait_s is None:
        max_wait_s = MAX_WAIT_S
    deadline = time.monotonic() + max_wait_s
    delay = 0.01
    while True:
        try:
            return work()
        except sqlite3.Error as exc:
            if not is_busy(exc):
                raise StoreError(f"correction store: {what} failed: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"the correction store is busy: another digitpad process kept it locked for "
                    f"over {max_wait_s:.0f} s while trying to {what}; try again"
                ) from None
            time.sleep(delay * (0.5 + random.random()))  # jitter: two waiters do not collide again
            delay = min(delay * 2, 0.5)


def transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``body`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``; roll back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def read_snapshot(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``body`` in one read transaction: every query sees the same committed state."""
    conn.execute("BEGIN")
    try:
        return body(conn)
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the store at ``path``.

    The schema version is checked *before* anything is written, so a store from a newer digitpad
    is left exactly as it was.

    Raises:
        StoreVersionError: the store was written by a newer digitpad.
        StoreBusyError: another process kept it locked too long.
        StoreError: the file is not a digitpad store or cannot be opened.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the correction store {path}: {exc}") from None
    try:
        _prepare(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        version = retrying(lambda: schema.recorded_version(conn), what="open the store")
    except StoreError as exc:
        if isinstance(exc.__cause__, sqlite3.DatabaseError):
            raise StoreError(
                f"{path} is not a digitpad correction store ({exc.__cause__})"
            ) from None
        raise
    schema.check_not_newer(version, str(path))
    retrying(lambda: _set_wal(conn), what="switch the store to WAL mode")
    conn.execute("PRAGMA synchronous = FULL")
    if version < schema.LATEST:
        retrying(lambda: schema.migrate(conn, str(path)), what="upgrade the store schema")


def _set_wal(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"the correction store cannot use WAL mode (got {mode!r})")
