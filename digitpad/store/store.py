"""CorrectionStore: every saved correction, durable, queryable, safe for several processes.

The app saves reviews and reads stats; a retrain process reads training samples at the same
time. Each save is one ``BEGIN IMMEDIATE`` transaction; page images are written (atomically,
fsynced) before the transaction that references them commits. One store object may be shared by
threads (calls are serialised by a lock); each process opens its own.

Only this package knows the schema: the app and the commands use these methods.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from digitpad.errors import StoreError
from digitpad.store import db, queries, rows
from digitpad.store.pages import PageFiles, pixel_hash
from digitpad.store.records import (
    ImportCounts,
    ImportedPage,
    PageTruth,
    ReviewTally,
    SavedReview,
    TrainingSample,
)
from digitpad.store.stats import Stats, compute_stats
from digitpad.store.timeline import TimelinePoint, compute_timeline
from digitpad.types import Box

if TYPE_CHECKING:
    from digitpad.home import Home
    from digitpad.types import ReviewPayload

T = TypeVar("T")


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
        """Save one review in one transaction and return its id; see :meth:`save`."""
        return self.save(payload).review_id

    def save(self, payload: ReviewPayload, *, replaces: int | None = None) -> SavedReview:
        """Save one review (the page and every box outcome) in one transaction.

        A second save of the same review session (the person edited after saving and saved
        again) replaces the earlier save in the same transaction and keeps its review id, so
        its predictions count once and training sees the latest labels. The earlier save is
        found by page pixels and ``started_at``, or given as ``replaces`` (the id the first
        save returned) when the page's ink may have changed since. When this returns, the
        review is on disk (WAL, synchronous=FULL) and survives a crash.

        Raises:
            StoreError: the payload is invalid (unknown source/outcome/label, empty box),
                ``replaces`` is a review of another session, or the store cannot be written.
            StoreBusyError: locked by another process too long.
        """
        rgb = rows.as_rgb(payload.image)
        rows.check_payload(payload)
        height, width = rgb.shape[:2]
        box_rows = [rows.box_row(b, width, height) for b in payload.boxes]
        with self.pages.writing():
            return self._save_page(rgb, payload, box_rows, replaces)

    def _save_page(
        self,
        rgb: np.ndarray,
        payload: ReviewPayload,
        box_rows: list[tuple[Any, ...]],
        replaces: int | None,
    ) -> SavedReview:
        """The page file of :meth:`save`, then its rows in one transaction."""
        height, width = rgb.shape[:2]
        pixels = pixel_hash(rgb)
        known = self._read(lambda c: queries.page_file(c, pixels), what="look up the page")
        if known is not None and self.pages.holds(known):
            page_hash, own_file = known, False  # kept as it came, maybe from a dataset
        else:
            page_hash, _ = self.pages.put_array(rgb)
            own_file = known is not None  # its file is damaged or gone: ours replaces it
        self.pages.flush()  # the page file is durable before the row that names it

        def write(conn: sqlite3.Connection) -> SavedReview:
            page_id = queries.ensure_page(
                conn, page_hash, pixels, payload.source, width, height, own_file=own_file
            )
            stamp = {"model_version": payload.model_version, "saved_at": payload.saved_at}
            earlier = queries.reuse_earlier_save(
                conn, page_id, payload.started_at, replaces=replaces, **stamp
            )
            review_id = earlier or queries.insert_review(
                conn, page_id, kind="review", started_at=payload.started_at, **stamp
            )
            conn.executemany(rows.INSERT_BOX, [(review_id, *row) for row in box_rows])
            return SavedReview(review_id, replaced=earlier is not None)

        return self._write(write, what="save the review")

    def add_imported(self, pages: Sequence[ImportedPage]) -> ImportCounts:
        """Add dataset pages in ONE transaction; return what happened to them.

        A page (same pixels) already in the store is kept as it was, so importing a dataset
        twice adds nothing; the one exception is a page imported before without any box, which
        nobody has reviewed since: it gets the dataset's boxes (see queries.insert_imports).
        Imported boxes have no prediction: outcome "added", never counted for live accuracy,
        but they are training samples. All or nothing: on any error nothing is kept.

        Raises:
            StoreError: an annotation's label is not a class, or the store cannot be written.
            StoreBusyError: locked by another process too long.
        """
        for page in pages:
            rows.check_imported_labels(page.origin, page.annotations)
        self.pages.flush()  # the page files are durable before the rows that name them

        def write(conn: sqlite3.Connection) -> ImportCounts:
            return queries.insert_imports(conn, pages, time.time())

        return self._write(write, what="import the dataset")

    def learn_pixels(self) -> None:
        """Learn the pixels of pages stored before schema 4 (once per page), joining pages that
        hold the same pixels in files of other bytes, and remove the files no row names then.

        Called before whatever reads every page's truth (a retrain's samples, an export) or
        adds pages by their pixels (an import): a page saved meanwhile may be the twin of one
        not learnt yet, and is joined to it then. Not on every opening: the first would decode
        every page of a large old store, on each process that opened it, before a Save.
        A page whose file is missing or damaged stays unlearnt, to be tried the next time;
        reading it reports it as before.

        Raises:
            StoreError / StoreBusyError: the store cannot be read or written.
        """
        todo = self._read(queries.unlearnt_pages, what="list pages")
        learnt = []
        for page_id, page_hash in todo:
            try:
                learnt.append((page_id, pixel_hash(self.pages.load(page_hash))))
            except StoreError:
                continue
        if not learnt:
            return

        def write(conn: sqlite3.Connection) -> list[str]:
            gone = (queries.learn_pixels(conn, page_id, pixels) for page_id, pixels in learnt)
            return [page_hash for page_hash in gone if page_hash is not None]

        self.discard_unnamed_files(self._write(write, what="learn the pages' pixels"))

    def discard_unnamed_files(self, hashes: Iterable[str]) -> None:
        """Remove the page files of ``hashes`` that no committed row names, as far as can be
        told now (see :meth:`PageFiles.discard_unreferenced`). Never raises: when the store
        cannot be read or a file cannot be removed, the files stay (an orphan file is
        harmless, a lost page is not)."""
        with contextlib.suppress(StoreError, OSError):
            self.pages.discard_unreferenced(hashes, self.known_pages)

    # -- reading ---------------------------------------------------------------------------

    def stats(self, *, last: int = 100) -> Stats:
        """Live accuracy (overall, last ``last`` boxes, per model, per digit), confusion, counts.

        Raises:
            StoreError / StoreBusyError: the store cannot be read.
        """
        return self._read(lambda conn: compute_stats(conn, last), what="compute stats")

    def timeline(self, *, last: int = 100) -> list[TimelinePoint]:
        """Live accuracy after each saved review, oldest first (the stats window's chart).

        Each point has the review's own counts, the running overall and the accuracy over the
        last ``last`` counted boxes then; the newest point's ``last`` equals
        ``stats(last=last).last``. Imports and reviews with no counted box have no point.

        Raises:
            ValueError: ``last`` < 1. StoreError / StoreBusyError: the store cannot be read.
        """
        if last < 1:
            raise ValueError(f"the window must hold at least one box, not {last}")
        return self._read(lambda conn: compute_timeline(conn, last), what="read accuracy history")

    def review_tallies(self) -> list[ReviewTally]:
        """Counted and right boxes of every saved review, oldest first.

        Imports are not reviews and are left out; so are reviews with no counted box.
        """
        return self._read(queries.review_tallies, what="read review tallies")

    def training_samples(
        self, *, on_unreadable: Callable[[str], None] | None = None
    ) -> Iterator[TrainingSample]:
        """Every box of every page's latest review, with its page image and final label.

        Deleted predictions come out as NOT_DIGIT (negatives). The rows are read in one snapshot
        before the first sample is yielded, so a long training run holds no lock and sees a
        consistent set even while the app keeps saving. With ``on_unreadable``, a page whose
        file is missing or damaged is left out and ``on_unreadable`` gets one line saying so
        (its rows stay in the store): one bad file does not stop every retrain.

        Raises:
            StoreError: a page file is missing or damaged (without ``on_unreadable``).
        """
        self.learn_pixels()
        found = self._read(queries.training_rows, what="read training samples")
        return self._samples(found, on_unreadable)

    def _samples(
        self, found: list[tuple[Any, ...]], on_unreadable: Callable[[str], None] | None
    ) -> Iterator[TrainingSample]:
        current_hash, image = None, None
        for review_id, page_hash, source, x0, y0, x1, y1, label in found:
            if page_hash != current_hash:
                current_hash = page_hash
                try:
                    image = self.page_image(page_hash)
                except StoreError as exc:
                    if on_unreadable is None:
                        raise
                    on_unreadable(f"{exc}: its boxes are left out")
                    image = None
                    continue
                image.flags.writeable = False
            if image is not None:
                yield TrainingSample(
                    page_hash, image, Box(x0, y0, x1, y1), label, review_id, source
                )

    def page_image(self, page_hash: str) -> np.ndarray:
        """The RGB uint8 page with ``page_hash``; StoreError if missing or damaged."""
        return self.pages.load(page_hash)

    def page_truths(self) -> list[PageTruth]:
        """Every page with the boxes of its latest review (deleted ones as NOT_DIGIT).

        Raises:
            StoreError / StoreBusyError: the store cannot be read.
        """
        self.learn_pixels()
        return self._read(queries.page_truths, what="read pages")

    def known_pages(self, hashes: Iterable[str]) -> set[str]:
        """The subset of ``hashes`` that the store has a page row for."""
        wanted = list(dict.fromkeys(hashes))
        return self._read(lambda c: queries.known_hashes(c, wanted), what="look up pages")

    def review_ids(self) -> list[int]:
        """Ids of every saved review and import, ascending."""
        return self._read(
            lambda c: [r[0] for r in c.execute("SELECT id FROM reviews ORDER BY id")],
            what="list reviews",
        )

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result: "ok" for a healthy store."""
        found = self._read(lambda c: c.execute("PRAGMA integrity_check").fetchall(), what="check")
        return "; ".join(str(r[0]) for r in found)

    # -- plumbing --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the correction store is closed")
        return self._conn

    def _write(self, body: Callable[[sqlite3.Connection], T], *, what: str) -> T:
        with self._lock:
            conn = self._connection()
            return db.retrying(lambda: db.transaction(conn, body), what=what)

    def _read(self, body: Callable[[sqlite3.Connection], T], *, what: str) -> T:
        with self._lock:
            conn = self._connection()
            return db.retrying(lambda: db.read_snapshot(conn, body), what=what)
