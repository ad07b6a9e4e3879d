"""A simulated person reviewing pages: what they would save, given the truth and the model's
reading. Used by the retrain speed and adaptation benchmarks and by tests to fill a store with
corrections exactly as the app would (same :class:`ReviewPayload`, same outcomes).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from digitpad.types import (
    MATCH_IOU,
    NOT_DIGIT,
    Annotation,
    BoxOutcome,
    PageResult,
    ReviewPayload,
)


def review_outcomes(
    truth: Sequence[Annotation], result: PageResult | None
) -> tuple[BoxOutcome, ...]:
    """The boxes a careful person saves for a page whose true digits are ``truth``.

    Every prediction is matched greedily (best IoU first, IoU >= 0.5) to a true digit: same label
    and box -> accepted, other label -> relabelled, same label but another box -> moved (to the
    true box). A prediction matching no true digit is deleted (it becomes "not a digit"); a true
    digit nobody predicted is added. Non-digit annotations are never added.
    """
    digits = [a for a in truth if a.is_digit]
    preds = list(result.digits) if result is not None else []
    pairs = sorted(
        ((p.box.iou(a.box), i, j) for i, p in enumerate(preds) for j, a in enumerate(digits)),
        reverse=True,
    )
    match_p: dict[int, int] = {}
    used_a: set[int] = set()
    for iou, i, j in pairs:
        if iou < MATCH_IOU:
            break
        if i not in match_p and j not in used_a:
            match_p[i] = j
            used_a.add(j)
    out: list[BoxOutcome] = []
    for i, p in enumerate(preds):
        common = {
            "predicted_box": p.box,
            "predicted_label": p.label,
            "confidence": p.confidence,
            "alternatives": p.alternatives,
        }
        if i not in match_p:
            out.append(BoxOutcome(p.box, NOT_DIGIT, "deleted", **common))
            continue
        a = digits[match_p[i]]
        if a.label != p.label:
            outcome = "relabelled"
        elif a.box != p.box:
            outcome = "moved"
        else:
            outcome = "accepted"
        out.append(BoxOutcome(a.box, a.label, outcome, **common))
    for j, a in enumerate(digits):
        if j not in used_a:
            out.append(BoxOutcome(a.box, a.label, "added"))
    return tuple(out)


def review_payload(
    image: np.ndarray,
    truth: Sequence[Annotation],
    result: PageResult | None,
    *,
    source: str = "loaded",
) -> ReviewPayload:
    """The payload the app would save for this page after a careful review."""
    now = time.time()
    return ReviewPayload(
        image=image,
        source=source,
        model_version=result.model_version if result is not None else "v1",
        started_at=now - 5.0,
        saved_at=now,
        boxes=review_outcomes(truth, result),
    )
