"""The app's calls into the engine, the store and the registry, run on worker threads.

No tkinter here. Every function may block (model loading, SQLite waiting for a lock) and is
therefore only ever called from :class:`~digitpad.ui.jobs.Jobs` threads. Imports are lazy so that
the window maps before onnxruntime is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from digitpad.home import Home
from digitpad.imageio import load_image
from digitpad.types import CONTEXT_WIDTH, PageResult, ReviewPayload
from digitpad.ui.drawing import PageSnapshot
from digitpad.ui.review_draft import ReviewDraft

if TYPE_CHECKING:
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser
    from digitpad.store import SavedReview, Stats, TimelinePoint

COUNTER_WINDOW = 100  # "96.8% on last 100": the status bar's and the chart's window, in boxes


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
    classifier.rerank(np.zeros((4, CONTEXT_WIDTH), np.float32))
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


def recognise_page(recogniser: Recogniser, page: PageSnapshot) -> PageResult:
    """Read the digits of ``page`` as it was when the snapshot was taken.

    Raises:
        ImageError / ModelError: the page or the model cannot be read (one line).
    """
    return recogniser.recognise(page.array())


def load_page(path: str) -> np.ndarray:
    """The page at ``path`` as RGB uint8. Raises ImageError (one line) if it cannot be read."""
    return load_image(path)


def save_review(
    home: Home, review: ReviewPayload | ReviewDraft, replaces: int | None = None
) -> SavedReview:
    """Write one review in one transaction, replacing the earlier save of the same review
    session (``replaces``: the id that save returned; see CorrectionStore.save). A draft's
    page is put together here, on the worker: a copy of a 12 MP page took 60 ms on Tk's.

    Raises:
        StoreError / StoreBusyError: the store refused or stayed locked.
    """
    from digitpad.store import CorrectionStore

    payload = review.payload() if isinstance(review, ReviewDraft) else review
    with CorrectionStore.open(home) as store:
        return store.save(payload, replaces=replaces)


def read_stats(home: Home) -> Stats:
    """The store's live-accuracy statistics (the one shared definition).

    Raises:
        StoreError: the store cannot be read.
    """
    from digitpad.store import CorrectionStore

    with CorrectionStore.open(home) as store:
        return store.stats(last=COUNTER_WINDOW)


def read_timeline(home: Home) -> list[TimelinePoint]:
    """Live accuracy after each saved review, oldest first, for the stats window's chart: the
    store's :meth:`~digitpad.store.CorrectionStore.timeline` over the status bar's last 100.

    Raises:
        StoreError / StoreBusyError: the store cannot be read.
    """
    from digitpad.store import CorrectionStore

    with CorrectionStore.open(home) as store:
        return store.timeline(last=COUNTER_WINDOW)


def saved_text(saved: SavedReview, boxes: int) -> str:
    """The status line after a Save, saying when it replaced the review's earlier save."""
    again = " again" if saved.replaced else ""
    text = f"Saved review #{saved.review_id}{again}: the page and {boxes} box{'es' * (boxes != 1)}"
    text += " in one transaction"
    if saved.replaced:
        text += " (it replaces the earlier save, so nothing counts twice)"
    return text


def counter_text(
    stats: Stats | None, model_version: str | None, *, store_unavailable: bool = False
) -> str:
    """``"Model v3 · 96.8% on last 100 · 1,240 digits reviewed"`` (no store yet: just the model).

    ``store_unavailable``: the last read of the store failed, so the counter says so rather
    than show numbers it cannot vouch for (or none, as if nothing had been reviewed).
    """
    if store_unavailable:
        return f"Model {model_version or '…'} · store unavailable"
    if stats is None or not stats.reviewed_boxes:
        # a page saved with no digit on it is a review, but nothing was measured on it
        return f"Model {model_version or '…'} · no digits reviewed yet"
    return stats.status_line(model_version)


def describe_model(home: Home) -> dict[str, Any]:
    """The active model's registry entry as plain data (version name and validation metrics)."""
    from digitpad.registry import ModelRegistry

    entry = ModelRegistry.for_home(home).active()
    return {"version": entry.name, "metrics": dict(entry.metrics or {})}
