"""The ONE definition of live accuracy, shared by the store's stats and the app.

Over reviewed boxes::

    accuracy = predictions the person kept with the predicted label
               / (all predictions + digits the model missed)

* A prediction counts as **right** when its final label equals the predicted label and the box
  was not moved away from it: IoU(final box, predicted box) >= 0.5. So "accepted" is right,
  "moved" is right when the move was small (IoU >= 0.5) and the label stayed, "relabelled" is
  wrong, and "deleted" is wrong (the final label is not_digit, a false positive).
* A box the person **added** is a digit the model missed: it adds 1 to the denominator only.
  An added box labelled not_digit is not a missed digit and does not count at all.
* Boxes without a review by a model (imported datasets) never count: they have no prediction.

The store computes :func:`is_correct` and :func:`counts` once per box when it saves, keeps them as
columns, and sums them in SQL; the app can use :func:`tally` on the boxes of an unsaved review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from digitpad.types import NOT_DIGIT, BoxOutcome

# A moved box still counts as the model's box when it overlaps the prediction at least this much.
MOVED_IOU = 0.5


def counts(box: BoxOutcome) -> bool:
    """Whether ``box`` is in the denominator: a prediction, or an added (missed) digit."""
    if box.predicted_label is not None:
        return True
    return box.final_label != NOT_DIGIT


def is_correct(box: BoxOutcome) -> bool:
    """Whether ``box`` is a prediction the person kept: same label, IoU >= 0.5 with it."""
    if box.predicted_label is None or box.final_label != box.predicted_label:
        return False
    if box.predicted_box is None:
        return True  # no separate prediction geometry recorded: the box is the prediction
    return box.box.iou(box.predicted_box) >= MOVED_IOU


@dataclass(frozen=True, slots=True)
class AccuracyCounts:
    """``correct`` right predictions out of ``total`` counted boxes."""

    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        """correct / total, or None when nothing was counted (no data is not 0%)."""
        return self.correct / self.total if self.total else None

    def __add__(self, other: AccuracyCounts) -> AccuracyCounts:
        return AccuracyCounts(self.correct + other.correct, self.total + other.total)

    def to_dict(self) -> dict[str, float | int | None]:
        """``{"correct", "total", "accuracy"}`` for JSON (accuracy None when nothing counted)."""
        return {"correct": self.correct, "total": self.total, "accuracy": self.accuracy}


def tally(boxes: Iterable[BoxOutcome]) -> AccuracyCounts:
    """Live accuracy counts over ``boxes`` (e.g. the boxes of one review)."""
    correct = total = 0
    for box in boxes:
        if counts(box):
            total += 1
            correct += is_correct(box)
    return AccuracyCounts(correct, total)


def trailing(right: Sequence[bool], ends: Sequence[int], last: int) -> list[AccuracyCounts]:
    """Live accuracy over the last ``last`` counted boxes, as it stood at each of ``ends``.

    ``right`` holds one flag per counted box in save order (True: a right prediction);
    ``ends[i]`` is how many of those boxes existed at moment i. This is the status bar's
    "on last 100" measure, evaluated back in time (fewer boxes than ``last``: all of them).

    Raises:
        ValueError: ``last`` < 1 or an end outside ``0..len(right)``.
    """
    if last < 1:
        raise ValueError(f"the window must hold at least one box, not {last}")
    prefix = [0, *accumulate(int(r) for r in right)]
    out = []
    for end in ends:
        if not 0 <= end <= len(right):
            raise ValueError(f"end {end} is outside 0..{len(right)}")
        start = max(0, end - last)
        out.append(AccuracyCounts(prefix[end] - prefix[start], end - start))
    return out


def format_accuracy(value: float | None) -> str:
    """``0.9683`` -> ``"96.8%"``; None -> ``"n/a"``."""
    return "n/a" if value is None else f"{100.0 * value:.1f}%"
