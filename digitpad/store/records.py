"""The plain records the store hands out and takes in (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.accuracy import AccuracyCounts
from digitpad.types import Annotation, Box


@dataclass(frozen=True)
class TrainingSample:
    """One box to train on: the page (RGB uint8, read-only, shared by its boxes), box, label."""

    page_hash: str
    image: np.ndarray
    box: Box
    label: str  # "0".."9" or NOT_DIGIT (deleted false positives, imported negatives)
    review_id: int
    # how its truth was made: a person's review in the app of a page drawn there or opened
    # from a file (drawn, loaded), or a dataset's boxes (imported); see queries.TRUTH_SOURCE
    source: str


@dataclass(frozen=True)
class ImportedPage:
    """A dataset page whose image is already in the page folder (see PageFiles.put_file)."""

    page_hash: str  # of the file's bytes: its name in the page folder
    pixels: str  # of its upright pixels: which page it is (see pages.pixel_hash)
    width: int
    height: int
    annotations: tuple[Annotation, ...]
    origin: str  # the file name inside the dataset, reused on export


@dataclass(frozen=True)
class ImportCounts:
    """What one import did, page by page (see CorrectionStore.add_imported)."""

    added: int  # pages no import brought in before
    labelled: int  # pages imported before without boxes, which got the dataset's boxes now
    kept: int  # pages already in the store, left exactly as they were
    repeated: int  # pages whose pixels came earlier in the same dataset, imported once
    boxes: int  # boxes added, to new pages and to labelled ones


@dataclass(frozen=True)
class SavedReview:
    """What one Save did: the review's id, and whether it replaced an earlier save.

    A second Save of the same review session (the same page recognised at the same moment:
    equal page hash and ``started_at``) replaces the first one's boxes and keeps its id, so the
    session's predictions count once.
    """

    review_id: int
    replaced: bool = False


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
    source: str  # how its truth was made, as TrainingSample.source
    origin: str | None
    review_id: int
    annotations: tuple[Annotation, ...]
