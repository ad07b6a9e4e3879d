"""The store's schema as ordered migrations, recorded in ``schema_migrations``.

Migration N is applied once, in order, inside one transaction together with its record, so a
crash mid-migration leaves the store at N-1. A store whose highest recorded migration is newer
than :data:`LATEST` was written by a newer digitpad: we refuse to touch it (StoreVersionError).
Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

import sqlite3
import time

from digitpad.errors import StoreVersionError

# Reviews by a person that a later save of the same session (page and start) superseded.
_EARLIER_SAVES = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY page_id, started_at "
    "ORDER BY saved_at DESC, id DESC) AS rn FROM reviews WHERE kind = 'review') WHERE rn > 1"
)

# (version, name, statements). Geometry is integer pixels, x1/y1 exclusive, like types.Box.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "pages, reviews, boxes",
        (
            """CREATE TABLE pages (
                id INTEGER PRIMARY KEY,
                hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
                source TEXT NOT NULL CHECK (source IN ('drawn', 'loaded', 'imported')),
                width INTEGER NOT NULL CHECK (width > 0),
                height INTEGER NOT NULL CHECK (height > 0),
                created_at REAL NOT NULL
            )""",
            # kind 'review': a person reviewed the model's predictions (counts for accuracy);
            # kind 'import': ground truth from a dataset (no predictions, feeds training only).
            """CREATE TABLE reviews (
                id INTEGER PRIMARY KEY,
                page_id INTEGER NOT NULL REFERENCES pages(id),
                kind TEXT NOT NULL CHECK (kind IN ('review', 'import')),
                model_version TEXT,
                started_at REAL NOT NULL,
                saved_at REAL NOT NULL,
                origin TEXT
            )""",
            "CREATE INDEX reviews_page ON reviews(page_id, saved_at)",
            """CREATE TABLE boxes (
                id INTEGER PRIMARY KEY,
                review_id INTEGER NOT NULL REFERENCES reviews(id),
                x0 INTEGER NOT NULL, y0 INTEGER NOT NULL,
                x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
                pred_x0 INTEGER, pred_y0 INTEGER, pred_x1 INTEGER, pred_y1 INTEGER,
                predicted_label TEXT,
                confidence REAL,
                alternatives TEXT NOT NULL DEFAULT '[]',
                final_label TEXT NOT NULL,
                deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
                outcome TEXT NOT NULL
                    CHECK (outcome IN ('accepted', 'relabelled', 'moved', 'added', 'deleted')),
                counted INTEGER NOT NULL CHECK (counted IN (0, 1)),
                correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
                kind TEXT,
                touching INTEGER NOT NULL DEFAULT 0,
                CHECK (x1 > x0 AND y1 > y0)
            )""",
            "CREATE INDEX boxes_review ON boxes(review_id)",
            # "last N boxes" walks this index backwards instead of scanning the table.
            "CREATE INDEX boxes_counted ON boxes(counted, id)",
        ),
    ),
    (
        2,
        "covering indexes for stats",
        (
            # stats() groups counted boxes by (predicted, final, outcome) and sums per review:
            # covering indexes turn both into one in-order index scan, no table lookups or sorts
            # (100,000 boxes: ~100 ms -> ~25 ms).
            "CREATE INDEX boxes_tally ON boxes(counted, predicted_label, final_label, outcome, "
            "correct)",
            "CREATE INDEX boxes_review_tally ON boxes(review_id, counted, correct)",
            "DROP INDEX boxes_review",  # boxes_review_tally starts with review_id
        ),
    ),
    (
        3,
        "one review per review session",
        (
            # Saving again after more edits replaces the earlier save of the same session
            # (page + started_at, see queries.reuse_earlier_save). Stores from before kept every
            # save, counting the same predictions twice: keep only the latest of each session
            # (the person's final decisions), then let the index enforce it.
            f"DELETE FROM boxes WHERE review_id IN ({_EARLIER_SAVES})",
            f"DELETE FROM reviews WHERE id IN ({_EARLIER_SAVES})",
            "CREATE UNIQUE INDEX reviews_session ON reviews(page_id, started_at) "
            "WHERE kind = 'review'",
        ),
    ),
    (
        4,
        "pages known by their pixels",
        (
            # The SHA-256 of a page's upright pixels (pages.pixel_hash): one page, whatever
            # bytes its file has. Pages stored before are NULL until the store has read their
            # files, outside this transaction (CorrectionStore learns them when opened, and
            # joins pages that turn out to hold the same pixels).
            "ALTER TABLE pages ADD COLUMN pixels TEXT "
            "CHECK (pixels IS NULL OR length(pixels) = 64)",
            "CREATE UNIQUE INDEX pages_pixels ON pages(pixels)",
        ),
    ),
)
LATEST: int = MIGRATIONS[-1][0]


def recorded_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration, 0 for an empty database."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if row is None:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def check_not_newer(version: int, where: str) -> None:
    """Raise StoreVersionError when ``version`` is newer than this code knows."""
    if version > LATEST:
        raise StoreVersionError(
            f"{where} was written by a newer digitpad (store schema {version}, this digitpad "
            f"knows up to {LATEST}); upgrade digitpad or use another --home. Nothing was changed."
        )


def migrate(conn: sqlite3.Connection, where: str) -> int:
    """Apply every pending migration in one IMMEDIATE transaction; return the new version.

    The version is re-read inside the transaction, so two processes opening a fresh store at
    once apply each migration exactly once.

    Raises:
        StoreVersionError: the store is newer than this code.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"""
        )
        current = recorded_version(conn)
        check_not_newer(current, where)
        for version, name, statements in MIGRATIONS:
            if version <= current:
                continue
            for sql in statements:
                conn.execute(sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return LATEST
