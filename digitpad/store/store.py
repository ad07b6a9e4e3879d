"""CorrectionStore: every saved correction, durable, queryable, safe for several processes.

The app saves reviews and reads stats; a retrain process reads training samples at the same
time. Each save is one ``BEGIN IMMEDIATE`` transaction; page images are written (atomically,
fsynced) before the transaction that references them commits. One store object may be shared by
threads (calls are serialised by a lock); each process opens its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from digitpad import accuracy
from digitpad.accuracy import AccuracyCounts
from digitpad.errors import StoreError
from digitpad.store import db
from digitpad.store.pages import PageFiles
from digitpad.store.stats import Stats, compute_stats
from digitpad.types import CLASSES, NOT_DIGIT, OUTCOMES, PAGE_SOURCES, Annotation, Box, BoxOutcome

if TYPE_CHECKING:
    from digitpad.home import Home
    from digitpad.types import ReviewPayload

T = TypeVar("T")

_BOX_COLUMNS = (
    "review_id, x0, y0, x1, y1, pred_x0, pred_y0, pred_x1, pred_y1, predicted_label, confidence, "
    "alternatives, final_label, deleted, outcome, counted, correct, kind, touching"
)
_INSERT_BOX = f"INSERT INTO boxes ({_BOX_COLUMNS}) VALUES ({', '.join('?' * 19)})"
# The current truth of a page is its latest review by a person (a page reviewed again
# supersedes itself); a dataset import counts only for pages nobody reviewed in the app, so
# re-importing an old export never undoes a newer correction.
_LATEST_REVIEWS = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY page_id "
    "ORDER BY kind = 'review' DESC, saved_at DESC, id DESC) AS rn FROM reviews) WHERE rn = 1"
)


@dataclass(frozen=True)
class TrainingSample:
    """One box to train on: the page (RGB uint8, read-only, shared by its boxes), box, label."""

    page_hash: str
    image: np.ndarray
    box: Box
    label: str  # "0".."9" or NOT_DIGIT (deleted false positives, imported negatives)
    review_id: int
    source: str  # the page's source: drawn, loaded or imported


@dataclass(frozen=True)
class ImportedPage:
    """A dataset page whose image is already in the page folder (see PageFiles.put_file)."""

    page_hash: str
    width: int
    height: int
    annotations: tuple[Annotation, ...]
    origin: str  # the file name inside the dataset, reused on export


@dataclass(frozen=True)
class ReviewTally:
    """One saved review's contribution to live accuracy."""

    review_id: int
    saved_at: float
    model_version: str
    counts: AccuracyCounts


@dataclass(frozen=True)
class PageTruth:
    """A page and its current boxes (from its latest review): what export writes."""

    page_hash: str
    width: int
    height: int
    source: str
    origin: str | None
    review_id: int
    annotations: tuple[Annotation, ...]


class CorrectionStore:
    """The SQLite correction store at ``path``; page images under ``path.parent / "pages"``.

    Opening creates or upgrades the schema. Raises StoreVersionError for a store written by a
    newer digitpad (untouched), StoreBusyError when another process keeps it locked too long,
    StoreError when it cannot be opened.
    """

    def __init__(self, path: Path, *, pages_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.pages = PageFiles(pages_dir or self.path.parent / "pages")
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = db.connect(self.path)

    @classmethod
    def open(cls, home: Home) -> CorrectionStore:
        """The store of a data home: ``<home>/corrections/digitpad.sqlite``."""
        return cls(home.store_path)

    def close(self) -> None:
        """Close the connection; later calls raise StoreError. Safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> CorrectionStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def save_review(self, payload: ReviewPayload) -> int:
        """Save one review (the page and every box outcome) in one transaction; return its id.

        When this returns, the review is on disk (WAL, synchronous=FULL) and survives a crash.

        Raises:
            StoreError: the payload is invalid (unknown source/outcome/label, empty box) or
                the store cannot be written. StoreBusyError: locked by another process too long.
        """
        rgb = _as_rgb(payload.image)
        _check_payload(payload)
        height, width = rgb.shape[:2]
        rows = [_box_row(b, width, height) for b in payload.boxes]
        page_hash, _ = self.pages.put_array(rgb)
        self.pages.flush()  # the page file is durable before the row that names it

        def write(conn: sqlite3.Connection) -> int:
            page_id = _ensure_page(conn, page_hash, payload.source, width, height)
            cur = conn.execute(
                "INSERT INTO reviews (page_id, kind, model_version, started_at, saved_at) "
                "VALUES (?, 'review', ?, ?, ?)",
                (page_id, payload.model_version, payload.started_at, payload.saved_at),
            )
            review_id = int(cur.lastrowid)
            conn.executemany(_INSERT_BOX, [(review_id, *row) for row in rows])
            return review_id

        return self._write(write, what="save the review")

    def add_imported(self, pages: Sequence[ImportedPage]) -> tuple[int, int, int]:
        """Add dataset pages in ONE transaction; return (pages added, pages skipped, boxes added).

        A page (same pixels) that was imported before is skipped, so importing a dataset twice
        adds nothing. Imported boxes have no prediction: outcome "added", never counted for live
        accuracy, but they are training samples. All or nothing: on any error nothing is kept.
        """
        for page in pages:
            for ann in page.annotations:
                if ann.label not in CLASSES:
                    raise StoreError(f"{page.origin}: label {ann.label!r} is not a class")
        self.pages.flush()  # the page files are durable before the rows that name them

        def write(conn: sqlite3.Connection) -> tuple[int, int, int]:
            added = skipped = 0
            seen: set[str] = set()
            now = time.time()
            box_rows: list[tuple[Any, ...]] = []
            for page in pages:
                if page.page_hash in seen or _was_imported(conn, page.page_hash):
                    skipped += 1
                    continue
                seen.add(page.page_hash)
                page_id = _ensure_page(conn, page.page_hash, "imported", page.width, page.height)
                cur = conn.execute(
                    "INSERT INTO reviews (page_id, kind, model_version, started_at, saved_at, "
                    "origin) VALUES (?, 'import', NULL, ?, ?, ?)",
                    (page_id, now, now, page.origin),
                )
                box_rows.extend(_imported_row(int(cur.lastrowid), a) for a in page.annotations)
                added += 1
            conn.executemany(_INSERT_BOX, box_rows)
            return added, skipped, len(box_rows)

        return self._write(write, what="import the dataset")

    # -- reading ---------------------------------------------------------------------------

    def stats(self, *, last: int = 100) -> Stats:
        """Live accuracy (overall, last ``last`` boxes, per model, per digit), confusion, counts."""
        return self._read(lambda conn: compute_stats(conn, last), what="compute stats")

    def training_samples(self) -> Iterator[TrainingSample]:
        """Every box of every page's latest review, with its page image and final label.

        Deleted predictions come out as NOT_DIGIT (negatives). The rows are read in one snapshot
        before the first sample is yielded, so a long training run holds no lock and sees a
        consistent set even while the app keeps saving.

        Raises:
            StoreError: a page file is missing or damaged.
        """
        rows = self._read(_training_rows, what="read training samples")
        return self._samples(rows)

    def _samples(self, rows: list[tuple[Any, ...]]) -> Iterator[TrainingSample]:
        current_hash, image = None, None
        for review_id, page_hash, source, x0, y0, x1, y1, label in rows:
            if page_hash != current_hash:
                image = self.page_image(page_hash)
                image.flags.writeable = False
                current_hash = page_hash
            assert image is not None
            yield TrainingSample(page_hash, image, Box(x0, y0, x1, y1), label, review_id, source)

    def page_image(self, page_hash: str) -> np.ndarray:
        """The RGB uint8 page with ``page_hash``; StoreError if missing or damaged."""
        return self.pages.load(page_hash)

    def review_tallies(self) -> list[ReviewTally]:
        """Counted and right boxes of every saved review, oldest first (for accuracy over time).

        Imports are not reviews and are left out; so are reviews with no counted box.
        """
        rows = self._read(
            lambda c: c.execute(
                "SELECT r.id, r.saved_at, r.model_version, SUM(b.correct), SUM(b.counted) "
                "FROM reviews r JOIN boxes b ON b.review_id = r.id WHERE r.kind = 'review' "
                "GROUP BY r.id HAVING SUM(b.counted) > 0 ORDER BY r.id"
            ).fetchall(),
            what="read review tallies",
        )
        return [ReviewTally(rid, t, v, AccuracyCounts(c, n)) for rid, t, v, c, n in rows]

    def page_truths(self) -> list[PageTruth]:
        """Every page with the boxes of its latest review (deleted ones as NOT_DIGIT)."""
        return self._read(_page_truths, what="read pages")

    def known_pages(self, hashes: Iterable[str]) -> set[str]:
        """The subset of ``hashes`` that the store has a page row for."""
        wanted = list(dict.fromkeys(hashes))

        def query(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for i in range(0, len(wanted), 500):  # stay under SQLite's variable limit
                chunk = wanted[i : i + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT hash FROM pages WHERE hash IN ({marks})"
                found.update(r[0] for r in conn.execute(sql, chunk))
            return found

        return self._read(query, what="look up pages")

    def review_ids(self) -> list[int]:
        """Ids of every saved review and import, ascending."""
        return self._read(
            lambda c: [r[0] for r in c.execute("SELECT id FROM reviews ORDER BY id")],
            what="list reviews",
        )

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result: "ok" for a healthy store."""
        rows = self._read(lambda c: c.execute("PRAGMA integrity_check").fetchall(), what="check")
        return "; ".join(str(r[0]) for r in rows)

    # -- plumbing --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the correction store is closed")
        return self._conn

    def _write(self, body: Any, *, what: str) -> Any:
        with self._lock:
            conn = self._connection()
            return db.retrying(lambda: db.transaction(conn, body), what=what)

    def _read(self, body: Any, *, what: str) -> Any:
        with self._lock:
            conn = self._connection()
            return db.retrying(lambda: db.read_snapshot(conn, body), what=what)


def _as_rgb(image: Any) -> np.ndarray:
    arr = np.asarray(image)
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and arr.size:
        return np.ascontiguousarray(arr)
    from digitpad.imageio import load_image

    return load_image(arr)


def _check_payload(payload: ReviewPayload) -> None:
    if payload.source not in PAGE_SOURCES:
        raise StoreError(
            f"cannot save: page source {payload.source!r} is not one of {PAGE_SOURCES}"
        )
    if not payload.model_version:
        raise StoreError("cannot save: the review has no model version")
    for i, box in enumerate(payload.boxes):
        if box.outcome not in OUTCOMES:
            raise StoreError(f"cannot save: box {i} has unknown outcome {box.outcome!r}")
        if box.final_label not in CLASSES:
            raise StoreError(f"cannot save: box {i} has unknown label {box.final_label!r}")
        if box.predicted_label is not None and box.predicted_label not in CLASSES:
            raise StoreError(f"cannot save: box {i} has unknown prediction {box.predicted_label!r}")


def _box_row(box: BoxOutcome, width: int, height: int) -> tuple[Any, ...]:
    """The boxes-table values (without review_id) of one reviewed box."""
    deleted = box.outcome == "deleted"
    final = NOT_DIGIT if deleted else box.final_label
    geometry = box.box.clip(width, height)
    if geometry.area == 0:
        raise StoreError(f"cannot save: box {box.box.as_tuple()} is empty or outside the page")
    counted_box = BoxOutcome(
        geometry, final, box.outcome, box.predicted_box, box.predicted_label, box.confidence
    )
    pred = box.predicted_box.as_tuple() if box.predicted_box else (None,) * 4
    alternatives = json.dumps([[a.label, round(float(a.score), 6)] for a in box.alternatives])
    return (
        *geometry.as_tuple(),
        *pred,
        box.predicted_label,
        None if box.confidence is None else float(box.confidence),
        alternatives,
        final,
        int(deleted),
        box.outcome,
        int(accuracy.counts(counted_box)),
        int(accuracy.is_correct(counted_box)),
        None,
        0,
    )


def _imported_row(review_id: int, ann: Annotation) -> tuple[Any, ...]:
    # No prediction: outcome "added" (the box came from outside), counted = correct = 0.
    b = ann.box
    return (
        review_id,
        b.x0,
        b.y0,
        b.x1,
        b.y1,
        None,
        None,
        None,
        None,
        None,
        None,
        "[]",
        ann.label,
        0,
        "added",
        0,
        0,
        ann.kind,
        int(ann.touching),
    )


def _ensure_page(conn: sqlite3.Connection, page_hash: str, source: str, w: int, h: int) -> int:
    conn.execute(
        "INSERT INTO pages (hash, source, width, height, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(hash) DO NOTHING",
        (page_hash, source, w, h, time.time()),
    )
    return int(conn.execute("SELECT id FROM pages WHERE hash = ?", (page_hash,)).fetchone()[0])


def _was_imported(conn: sqlite3.Connection, page_hash: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM reviews r JOIN pages p ON p.id = r.page_id "
        "WHERE p.hash = ? AND r.kind = 'import' LIMIT 1",
        (page_hash,),
    ).fetchone()
    return row is not None


def _training_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT r.id, p.hash, p.source, b.x0, b.y0, b.x1, b.y1, b.final_label "
        "FROM boxes b JOIN reviews r ON r.id = b.review_id JOIN pages p ON p.id = r.page_id "
        f"WHERE r.id IN ({_LATEST_REVIEWS}) ORDER BY p.id, b.id"
    ).fetchall()


def _page_truths(conn: sqlite3.Connection) -> list[PageTruth]:
    rows = conn.execute(
        "SELECT r.id, p.hash, p.width, p.height, p.source, r.origin, "
        "b.x0, b.y0, b.x1, b.y1, b.final_label, b.kind, b.touching "
        "FROM reviews r JOIN pages p ON p.id = r.page_id "
        "LEFT JOIN boxes b ON b.review_id = r.id "
        f"WHERE r.id IN ({_LATEST_REVIEWS}) ORDER BY p.id, b.id"
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
