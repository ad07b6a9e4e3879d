"""The correction store: SQLite (stdlib ``sqlite3``, WAL) plus content-addressed page files.

``CorrectionStore`` is the library API used by the app (``save``, ``stats``, ``timeline``) and by
retraining (``training_samples``, ``page_image``). See :mod:`digitpad.store.pages` for why page
images are files, :mod:`digitpad.store.schema` for the migrations and :mod:`digitpad.accuracy`
for the definition of live accuracy.
"""

from __future__ import annotations

from digitpad.accuracy import AccuracyCounts
from digitpad.store.records import (
    ImportCounts,
    ImportedPage,
    PageTruth,
    ReviewTally,
    SavedReview,
    TrainingSample,
)
from digitpad.store.stats import Stats, format_stats
from digitpad.store.store import CorrectionStore
from digitpad.store.timeline import TimelinePoint

__all__ = [
    "AccuracyCounts",
    "CorrectionStore",
    "ImportCounts",
    "ImportedPage",
    "PageTruth",
    "ReviewTally",
    "SavedReview",
    "Stats",
    "TimelinePoint",
    "TrainingSample",
    "format_stats",
]
