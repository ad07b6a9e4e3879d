"""Checking what is about to be saved and turning it into ``boxes`` rows.

Whether a box counts for live accuracy and whether it is right is decided here, once per box, by
:mod:`digitpad.accuracy`, and kept as the ``counted`` and ``correct`` columns that stats add up.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from digitpad import accuracy
from digitpad.errors import StoreError
from digitpad.types import CLASSES, NOT_DIGIT, OUTCOMES, PAGE_SOURCES, Annotation, BoxOutcome

if TYPE_CHECKING:
    from digitpad.types import ReviewPayload

BOX_COLUMNS = (
    "review_id, x0, y0, x1, y1, pred_x0, pred_y0, pred_x1, pred_y1, predicted_label, confidence, "
    "alternatives, final_label, deleted, outcome, counted, correct, kind, touching"
)
INSERT_BOX = f"INSERT INTO boxes ({BOX_COLUMNS}) VALUES ({', '.join('?' * 19)})"


def as_rgb(image: Any) -> np.ndarray:
    """``image`` as contiguous RGB uint8, read by the one image loader the recogniser reads
    pages with (a page of RGB uint8 without a copy), so the store keeps the page that was read
    (a 0/1 mask as black on white).

    Raises:
        ImageError: ``image`` is not an image digitpad can read.
    """
    from digitpad.imageio import load_image

    return load_image(np.asarray(image))


def check_payload(payload: ReviewPayload) -> None:
    """Refuse a review the store could not record faithfully.

    Raises:
        StoreError: unknown page source, outcome or label, or no model version.
    """
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


def check_imported_labels(origin: str, annotations: tuple[Annotation, ...]) -> None:
    """Raise StoreError naming ``origin`` when an annotation's label is not one of CLASSES."""
    for ann in annotations:
        if ann.label not in CLASSES:
            raise StoreError(f"{origin}: label {ann.label!r} is not a class")


def box_row(box: BoxOutcome, width: int, height: int) -> tuple[Any, ...]:
    """The boxes-table values (without review_id) of one reviewed box, clipped to the page.

    Raises:
        StoreError: the box is empty or wholly outside the page.
    """
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
    confidence = None if box.confidence is None else float(box.confidence)
    return (
        *geometry.as_tuple(),
        *pred,
        box.predicted_label,
        confidence,
        alternatives,
        final,
        int(deleted),
        box.outcome,
        int(accuracy.counts(counted_box)),
        int(accuracy.is_correct(counted_box)),
        None,  # kind and touching come from datasets only
        0,
    )


def imported_row(review_id: int, ann: Annotation) -> tuple[Any, ...]:
    """The boxes-table values of one dataset annotation.

    No prediction (geometry, label, confidence all NULL): outcome "added", never counted for
    live accuracy (counted = correct = 0), but a training sample.
    """
    no_prediction = (None,) * 6
    return (
        review_id,
        *ann.box.as_tuple(),
        *no_prediction,
        "[]",
        ann.label,
        0,
        "added",
        0,
        0,
        ann.kind,
        int(ann.touching),
    )
