"""The SQL that runs inside the store's transactions and read snapshots.

Every function takes an open connection and runs inside a transaction its caller began (see
:func:`digitpad.store.db.transaction` and :func:`digitpad.store.db.read_snapshot`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from digitpad.accuracy import AccuracyCounts
from digitpad.errors import StoreError
from digitpad.store import rows
from digitpad.store.records import ImportCounts, ImportedPage, PageTruth, ReviewTally
from digitpad.types import NOT_DIGIT, Annotation, Box

# The current truth of a page is its latest review by a person (a page reviewed again
# supersedes itself); a dataset import counts only for pages nobody reviewed in the app, so
# re-importing an old export never undoes a newer correction.
LATEST_REVIEWS = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY page_id "
    "ORDER BY kind = 'review' DESC, saved_at DESC, id DESC) AS rn FROM reviews) WHERE rn = 1"
)


# How a page's truth was made, as TrainingSample.source says it: a dataset's boxes
# ("imported"), or a person's review in the app of a page drawn there or opened from a file
# ("loaded", also for a page first brought in by an import).
TRUTH_SOURCE = (
    "CASE WHEN r.kind = 'import' THEN 'imported' "
    "WHEN p.source = 'imported' THEN 'loaded' ELSE p.source END"
)


def ensure_page(
    conn: sqlite3.Connection,
    page_hash: str,
    pixels: str,
    source: str,
    w: int,
    h: int,
    *,
    own_file: bool = False,
) -> int:
    """The id of the page with ``pixels``, inserted (its file named by ``page_hash``) if new.

    The first source wins, and so does the first file: a page stored again from other bytes
    keeps the file it has, unless ``own_file`` (the caller found that file damaged or missing
    and wrote ``page_hash``'s, which holds the same pixels). A row of ``page_hash`` whose pixels
    are not learnt yet (see :func:`learn_pixels`) is the same page: the two rows are joined
    into the older.
    """
    by_pixels = _page_id(conn, "pixels", pixels)
    by_hash = _page_id(conn, "hash", page_hash)
    found = {i for i in (by_pixels, by_hash) if i is not None}
    if not found:
        cur = conn.execute(
            "INSERT INTO pages (hash, pixels, source, width, height, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (page_hash, pixels, source, w, h, time.time()),
        )
        return int(cur.lastrowid)
    keep, _ = _join_into_oldest(conn, found, pixels)
    if own_file:
        conn.execute("UPDATE pages SET hash = ? WHERE id = ?", (page_hash, keep))
    return keep


def page_file(conn: sqlite3.Connection, pixels: str) -> str | None:
    """The file hash of the page with ``pixels``, None when there is no such page."""
    row = conn.execute("SELECT hash FROM pages WHERE pixels = ?", (pixels,)).fetchone()
    return None if row is None else str(row[0])


def unlearnt_pages(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, file hash) of every page whose pixels the store has not learnt, oldest first."""
    return [
        (int(i), str(h))
        for i, h in conn.execute("SELECT id, hash FROM pages WHERE pixels IS NULL ORDER BY id")
    ]


def learn_pixels(conn: sqlite3.Connection, page_id: int, pixels: str) -> str | None:
    """Record the pixels of page ``page_id``. When another page holds them already, the two
    are joined into the older, which keeps its file, and the file hash no row names any more
    is returned. Nothing happens to a page gone or learnt since it was read (another process
    learnt it)."""
    row = conn.execute("SELECT pixels FROM pages WHERE id = ?", (page_id,)).fetchone()
    if row is None or row[0] is not None:
        return None
    other = _page_id(conn, "pixels", pixels)
    _, unnamed = _join_into_oldest(conn, {page_id} if other is None else {page_id, other}, pixels)
    return unnamed[0] if unnamed else None


def _join_into_oldest(
    conn: sqlite3.Connection, ids: set[int], pixels: str
) -> tuple[int, list[str]]:
    """Join the page rows ``ids``, found to hold one page, into the oldest, which keeps its
    file, and record ``pixels`` on it; (its id, the file hashes no row names any more)."""
    keep = min(ids)
    unnamed = []
    for gone in sorted(ids - {keep}):
        row = conn.execute("SELECT hash FROM pages WHERE id = ?", (gone,)).fetchone()
        unnamed.append(str(row[0]))
        join_pages(conn, keep=keep, gone=gone)
    conn.execute("UPDATE pages SET pixels = ? WHERE id = ?", (pixels, keep))
    return keep, unnamed


def join_pages(conn: sqlite3.Connection, *, keep: int, gone: int) -> None:
    """Make page ``gone``'s reviews page ``keep``'s and remove ``gone``: two rows found to hold
    one page. Of two saves of one review session (page and start), the later is kept, as
    migration 3 kept them."""
    for rid, started, saved in conn.execute(
        "SELECT id, started_at, saved_at FROM reviews WHERE page_id = ? AND kind = 'review'",
        (gone,),
    ).fetchall():
        twin = conn.execute(
            "SELECT id, saved_at FROM reviews WHERE page_id = ? AND kind = 'review' "
            "AND started_at = ?",
            (keep, started),
        ).fetchone()
        if twin is not None:
            earlier = rid if (saved, rid) < (twin[1], twin[0]) else int(twin[0])
            conn.execute("DELETE FROM boxes WHERE review_id = ?", (earlier,))
            conn.execute("DELETE FROM reviews WHERE id = ?", (earlier,))
    conn.execute("UPDATE reviews SET page_id = ? WHERE page_id = ?", (keep, gone))
    conn.execute("DELETE FROM pages WHERE id = ?", (gone,))
    # a dataset imported twice (other encodings), once without its labels: the import without
    # boxes must not hide the one with them by being the later
    conn.execute(
        "DELETE FROM reviews WHERE page_id = ? AND kind = 'import' AND NOT EXISTS "
        "(SELECT 1 FROM boxes b WHERE b.review_id = reviews.id) AND EXISTS "
        "(SELECT 1 FROM reviews o JOIN boxes c ON c.review_id = o.id "
        "WHERE o.page_id = ? AND o.kind = 'import')",
        (keep, keep),
    )


def _page_id(conn: sqlite3.Connection, column: str, value: str) -> int | None:
    row = conn.execute(f"SELECT id FROM pages WHERE {column} = ?", (value,)).fetchone()
    return None if row is None else int(row[0])


def reuse_earlier_save(
    conn: sqlite3.Connection,
    page_id: int,
    started_at: float,
    *,
    replaces: int | None,
    model_version: str,
    saved_at: float,
) -> int | None:
    """Empty the earlier save of this review session for reuse; return its id (None: no save).

    The session's earlier saves are the review of the same page with the same ``started_at``,
    and ``replaces`` (the id the app got from its last save of this session: the page's ink may
    have changed since). Their boxes are deleted, one review is kept (its id stays: the person
    saved the same review again) and moved to ``page_id`` with the new stamp; a page no review
    uses any more loses its row. The caller inserts the new boxes in the same transaction, so
    the session always has exactly one review and its predictions never count twice.

    Raises:
        StoreError: ``replaces`` names a review of another session or an import.
    """
    earlier = _session_saves(conn, page_id, started_at, replaces)
    if not earlier:
        return None
    keep = min(earlier)
    marks = ", ".join("?" * len(earlier))
    old_pages = [
        r[0] for r in conn.execute(f"SELECT page_id FROM reviews WHERE id IN ({marks})", earlier)
    ]
    conn.execute(f"DELETE FROM boxes WHERE review_id IN ({marks})", earlier)
    conn.execute(f"DELETE FROM reviews WHERE id IN ({marks}) AND id != ?", (*earlier, keep))
    conn.execute(
        "UPDATE reviews SET page_id = ?, model_version = ?, saved_at = ? WHERE id = ?",
        (page_id, model_version, saved_at, keep),
    )
    for old in set(old_pages) - {page_id}:
        conn.execute(
            "DELETE FROM pages WHERE id = ? "
            "AND NOT EXISTS (SELECT 1 FROM reviews WHERE page_id = ?)",
            (old, old),
        )
    return keep


def _session_saves(
    conn: sqlite3.Connection, page_id: int, started_at: float, replaces: int | None
) -> list[int]:
    found = {
        int(r[0])
        for r in conn.execute(
            "SELECT id FROM reviews WHERE page_id = ? AND started_at = ? AND kind = 'review'",
            (page_id, started_at),
        )
    }
    if replaces is not None:
        row = conn.execute(
            "SELECT kind, started_at FROM reviews WHERE id = ?", (replaces,)
        ).fetchone()
        if row is not None and tuple(row) != ("review", started_at):
            raise StoreError(
                f"cannot save: review #{replaces} is not an earlier save of this review"
            )
        if row is not None:
            found.add(replaces)
    return sorted(found)


def insert_review(
    conn: sqlite3.Connection,
    page_id: int,
    *,
    kind: str,
    model_version: str | None,
    started_at: float,
    saved_at: float,
    origin: str | None = None,
) -> int:
    """Insert one review (``kind`` "review" or "import") and return its id."""
    cur = conn.execute(
        "INSERT INTO reviews (page_id, kind, model_version, started_at, saved_at, origin) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (page_id, kind, model_version, started_at, saved_at, origin),
    )
    return int(cur.lastrowid)


def insert_imports(
    conn: sqlite3.Connection, pages: Sequence[ImportedPage], now: float
) -> ImportCounts:
    """Insert the dataset's pages; return what happened to them.

    A page new to the store is added. A page imported before without boxes (a YOLO image whose
    label file was missing then) that nobody has reviewed in the app gets the dataset's boxes,
    if it has any now: nothing is replaced, as there was nothing. Any other page already in
    the store is kept exactly as it was, so importing a dataset twice adds nothing. A page
    whose pixels came earlier in ``pages`` is imported once.
    """
    seen: set[str] = set()
    added = labelled = kept = 0
    box_rows: list[tuple[Any, ...]] = []
    for page in pages:
        if page.pixels in seen:
            continue
        seen.add(page.pixels)
        state = _import_state(conn, page)
        if state == "new":
            page_id = ensure_page(
                conn, page.page_hash, page.pixels, "imported", page.width, page.height
            )
            review_id = insert_review(
                conn,
                page_id,
                kind="import",
                model_version=None,
                started_at=now,
                saved_at=now,
                origin=page.origin,
            )
            added += 1
        elif isinstance(state, int) and page.annotations:
            review_id, labelled = state, labelled + 1
        else:
            kept += 1
            continue
        box_rows.extend(rows.imported_row(review_id, a) for a in page.annotations)
    conn.executemany(rows.INSERT_BOX, box_rows)
    return ImportCounts(added, labelled, kept, len(pages) - len(seen), len(box_rows))


def _import_state(conn: sqlite3.Connection, page: ImportedPage) -> str | int:
    """What an import may do with the page: nothing ("kept") when a person reviewed it or an
    import gave it boxes; give boxes to its latest import review (its id) when imports brought
    it in without any; otherwise add it ("new"). The page is found by its pixels, or by its
    file where the store has not learnt that file's pixels."""
    found = conn.execute(
        "SELECT r.id, r.kind, EXISTS (SELECT 1 FROM boxes b WHERE b.review_id = r.id) "
        "FROM reviews r JOIN pages p ON p.id = r.page_id WHERE p.pixels = ? OR p.hash = ? "
        "ORDER BY r.id",
        (page.pixels, page.page_hash),
    ).fetchall()
    if any(kind != "import" for _, kind, _ in found):
        return "kept"  # a person reviewed it: their boxes stand, and it is no imported page
    imports = [rid for rid, kind, _ in found if kind == "import"]
    if not imports:
        return "new"
    if any(has_boxes for _, _, has_boxes in found):
        return "kept"
    return int(imports[-1])


def review_tallies(conn: sqlite3.Connection) -> list[ReviewTally]:
    """Counted and right boxes of every review with counted boxes, in save order (a review
    saved again moves to its latest save: its boxes are the newest)."""
    rows = conn.execute(
        "SELECT r.id, r.saved_at, r.model_version, SUM(b.correct), SUM(b.counted) "
        "FROM reviews r JOIN boxes b ON b.review_id = r.id WHERE r.kind = 'review' "
        "GROUP BY r.id HAVING SUM(b.counted) > 0 ORDER BY MAX(b.id)"
    ).fetchall()
    return [ReviewTally(rid, t, v, AccuracyCounts(c, n)) for rid, t, v, c, n in rows]


def training_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(review id, page hash, source, x0, y0, x1, y1, final label) of every page's latest review,
    grouped by page (one review each), in the order the reviews were first saved: a review
    saved again keeps its id and its place, also when its page changed (more ink), so the
    retrain's held-out split, which looks at which correction of a label came first, stays."""
    return conn.execute(
        f"SELECT r.id, p.hash, {TRUTH_SOURCE}, b.x0, b.y0, b.x1, b.y1, b.final_label "
        "FROM boxes b JOIN reviews r ON r.id = b.review_id JOIN pages p ON p.id = r.page_id "
        f"WHERE r.id IN ({LATEST_REVIEWS}) ORDER BY r.id, b.id"
    ).fetchall()


def page_truths(conn: sqlite3.Connection) -> list[PageTruth]:
    """Every page with the boxes of its latest review (deleted ones as NOT_DIGIT)."""
    rows = conn.execute(
        f"SELECT r.id, p.hash, p.width, p.height, {TRUTH_SOURCE}, "
        # a page imported and then reviewed in the app keeps its file's name on export
        "COALESCE(r.origin, (SELECT o.origin FROM reviews o WHERE o.page_id = p.id "
        "AND o.origin IS NOT NULL ORDER BY o.saved_at DESC, o.id DESC LIMIT 1)), "
        "b.x0, b.y0, b.x1, b.y1, b.final_label, b.kind, b.touching "
        "FROM reviews r JOIN pages p ON p.id = r.page_id "
        "LEFT JOIN boxes b ON b.review_id = r.id "
        f"WHERE r.id IN ({LATEST_REVIEWS}) ORDER BY p.id, b.id"
    ).fetchall()
    truths: dict[int, tuple[list[Any], list[Annotation]]] = {}
    for rid, h, w, ht, source, origin, x0, y0, x1, y1, label, kind, touching in rows:
        _, anns = truths.setdefault(rid, ([h, w, ht, source, origin], []))
        if label is not None:
            default_kind = "digit" if label != NOT_DIGIT else "other"
            anns.append(
                Annotation(Box(x0, y0, x1, y1), label, kind or default_kind, bool(touching))
            )
    return [
        PageTruth(h, w, ht, source, origin, rid, tuple(anns))
        for rid, ((h, w, ht, source, origin), anns) in truths.items()
    ]


def known_hashes(conn: sqlite3.Connection, hashes: list[str]) -> set[str]:
    """The subset of ``hashes`` that has a page row."""
    found: set[str] = set()
    for i in range(0, len(hashes), 500):  # stay under SQLite's variable limit
        chunk = hashes[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(
            r[0] for r in conn.execute(f"SELECT hash FROM pages WHERE hash IN ({marks})", chunk)
        )
    return found
