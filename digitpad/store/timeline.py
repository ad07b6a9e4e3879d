"""Accuracy over time: one point per saved review, for the stats window's line chart.

Counted boxes are read in save order (box id: a review's boxes are inserted together, and a
re-saved review is inserted anew, so ids follow the saves). At each review the chart shows the
status bar's measure, live accuracy over the last N counted boxes as it stood then, computed by
:func:`digitpad.accuracy.trailing`; so the chart's last point and the status bar always agree.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from itertools import accumulate

from digitpad.accuracy import AccuracyCounts, trailing

# Imports have counted = 0, so these are exactly the boxes of reviews by a person.
_COUNTED_SQL = "SELECT review_id, correct FROM boxes WHERE counted = 1 ORDER BY id"
_REVIEWS_SQL = (
    "SELECT id, saved_at, COALESCE(model_version, '?') FROM reviews WHERE kind = 'review'"
)


@dataclass(frozen=True)
class TimelinePoint:
    """Live accuracy right after one saved review."""

    review_id: int
    saved_at: float
    model_version: str
    review: AccuracyCounts  # this review's own counted boxes
    overall: AccuracyCounts  # every counted box saved up to and including this review
    last: AccuracyCounts  # the last N counted boxes up to and including this review


def compute_timeline(conn: sqlite3.Connection, last: int) -> list[TimelinePoint]:
    """One point per review with counted boxes, oldest first; call inside one read snapshot.

    Raises:
        ValueError: ``last`` < 1.
    """
    meta = {rid: (saved, version) for rid, saved, version in conn.execute(_REVIEWS_SQL)}
    order: list[int] = []  # review ids in save order
    own: list[AccuracyCounts] = []  # each review's counts
    right: list[bool] = []  # one flag per counted box, in save order
    for review_id, correct in conn.execute(_COUNTED_SQL):
        if not order or order[-1] != review_id:
            order.append(review_id)
            own.append(AccuracyCounts())
        own[-1] += AccuracyCounts(int(correct), 1)
        right.append(bool(correct))
    ends = list(accumulate(c.total for c in own))  # counted boxes saved after each review
    windows = trailing(right, ends, last)
    overall = trailing(right, ends, max(1, len(right)))
    return [
        TimelinePoint(rid, float(meta[rid][0]), str(meta[rid][1]), mine, total, window)
        for rid, mine, total, window in zip(order, own, overall, windows, strict=True)
    ]
