"""The app's calls into the engine, the store and the registry, run on worker threads.

No tkinter here. Every function may block (model loading, SQLite waiting for a lock) and is
therefore only ever called from :class:`~digitpad.ui.jobs.Jobs` threads. Imports are lazy so that
the window maps before onnxruntime is loaded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from digitpad.errors import StoreBusyError, StoreError
from digitpad.home import Home
from digitpad.imageio import load_image
from digitpad.types import ReviewPayload

if TYPE_CHECKING:
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser
    from digitpad.store import Stats


def load_classifier(home: Home) -> tuple[Classifier, str | None]:
    """The home's active model, loaded and warmed up (the first inference is the slow one),
    with the registry's warning when it had to fall back from a broken active model.

    Raises:
        ModelError: no usable model.
    """
    from digitpad.recognise_service import load_classifier as load
    from digitpad.registry import ModelRegistry

    entry = ModelRegistry.for_home(home).active()  # once: the fallback warning is shown once
    classifier = load(entry.path)
    classifier.predict(np.zeros((4, 1, 28, 28), np.float32))
    return classifier, entry.warning


def load_recogniser(home: Home) -> tuple[Recogniser, str | None]:
    """A recogniser around the home's active model, warmed up on a small drawn page, and the
    registry's fallback warning (or None).

    Raises:
        ModelError: no usable model.
    """
    from digitpad.recognise_service import Recogniser

    classifier, warning = load_classifier(home)
    recogniser = Recogniser(classifier)
    page = np.full((120, 160, 3), 255, np.uint8)
    page[30:90, 70:78] = 0  # a "1", so segmentation, preprocessing and inference all run once
    recogniser.recognise(page)
    return recogniser, warning


def load_page(path: str) -> np.ndarray:
    """The page at ``path`` as RGB uint8. Raises ImageError (one line) if it cannot be read."""
    return load_image(path)


def save_review(home: Home, payload: ReviewPayload) -> int:
    """Write one review in one transaction; returns its id.

    Raises:
        StoreError / StoreBusyError: the store refused or stayed locked.
    """
    from digitpad.store import CorrectionStore

    with CorrectionStore.open(home) as store:
        return store.save_review(payload)


def read_stats(home: Home) -> Stats:
    """The store's live-accuracy statistics (the one shared definition).

    Raises:
        StoreError: the store cannot be read.
    """
    from digitpad.store import CorrectionStore

    with CorrectionStore.open(home) as store:
        return store.stats(last=100)


@dataclass(frozen=True)
class TimelinePoint:
    """Live accuracy after one saved review: cumulative, and for that model version so far."""

    review: int
    saved_at: float
    model_version: str
    correct: int
    total: int


def read_timeline(home: Home) -> list[TimelinePoint]:
    """Counted and correct boxes of every saved review, oldest first.

    The store decides per box, once, whether it counts and whether it is right (the shared
    definition in :mod:`digitpad.accuracy`, kept as columns); this only adds them up per review,
    read-only, because the store's :class:`Stats` has no time series.

    Raises:
        StoreError / StoreBusyError: the store cannot be read.
    """
    path = home.store_path
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = conn.execute(
                "SELECT r.id, r.saved_at, COALESCE(r.model_version, '?'), "
                "SUM(b.correct), SUM(b.counted) FROM reviews AS r JOIN boxes AS b "
                "ON b.review_id = r.id WHERE r.kind = 'review' GROUP BY r.id ORDER BY r.id"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreBusyError("the correction store is busy; try again in a moment") from exc
        raise StoreError(f"cannot read the correction store: {exc}") from exc
    return [
        TimelinePoint(int(r), float(t), str(v), int(c or 0), int(n or 0))
        for r, t, v, c, n in rows
        if n
    ]


def rolling_accuracy(points: list[TimelinePoint], window: int = 100) -> list[float]:
    """Accuracy over the last ``window`` counted boxes at each review (the status bar's measure,
    per review). Reviews are taken whole: the window is at least ``window`` boxes."""
    out: list[float] = []
    for i in range(len(points)):
        correct = total = 0
        for p in reversed(points[: i + 1]):
            correct += p.correct
            total += p.total
            if total >= window:
                break
        out.append(correct / total if total else 0.0)
    return out


def counter_text(stats: Stats | None, model_version: str | None) -> str:
    """``"Model v3 · 96.8% on last 100 · 1,240 digits reviewed"`` (no store yet: just the model)."""
    if stats is None or not stats.reviewed_boxes:
        return f"Model {model_version or '…'} · no reviews yet"
    return stats.status_line(model_version)


def describe_model(home: Home) -> dict[str, Any]:
    """The active model's registry entry as plain data (version name and validation metrics)."""
    from digitpad.registry import ModelRegistry

    entry = ModelRegistry.for_home(home).active()
    return {"version": entry.name, "metrics": dict(entry.metrics or {})}
