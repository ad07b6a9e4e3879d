"""Accuracy over time: one point per saved review, for the stats window's line chart.

Counted boxes are read in save order (box id: a review's boxes are inserted together, and a
re-saved review is inserted anew, so ids follow the saves). At each review the chart shows the
status bar's measure, live accuracy over the last N counted boxes as it stood then, computed by
:func:`digitpad.accuracy.trailing`; so the chart's last point and the status bar always agree.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from itertools import accumulate, groupby

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
    boxes = conn.execute(_COUNTED_SQL).fetchall()  # (review id, correct) per counted box
    flags = [correct for _, correct in boxes]
    runs = [(rid, sum(1 for _ in run)) for rid, run in groupby(rid for rid, _ in boxes)]
    order = [rid for rid, _ in runs]  # review ids in save order
    ends = list(accumulate(n for _, n in runs))  # counted boxes saved up to each review
    right_before = [0, *accumulate(flags)]
    own = [
        AccuracyCounts(right_before[e] - right_before[e - n], n)
        for e, (_, n) in zip(ends, runs, strict=True)
    ]
    windows = trailing(flags, ends, last)
    overall = trailing(flags, ends, max(1, len(flags)))
    return [
        TimelinePoint(rid, float(meta[rid][0]), str(meta[rid][1]), mine, total, window)
        for rid, mine, total, window in zip(order, own, overall, windows, strict=True)
    ]
