"""Base types shared by every layer. Frozen dataclasses: values, not objects with behaviour.

Coordinates are integer pixels of the *original* image, ``(x0, y0, x1, y1)`` with x1/y1 exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DIGITS: tuple[str, ...] = tuple("0123456789")
NOT_DIGIT = "not_digit"
# Class index i of every classifier is CLASSES[i]; index 10 is "not a digit".
CLASSES: tuple[str, ...] = (*DIGITS, NOT_DIGIT)
NOT_DIGIT_INDEX = CLASSES.index(NOT_DIGIT)
# A box is read as "not a digit" when that class has at least this probability: the recogniser
# drops it, its word and number rules count it as a letter, a cut counts it as doubted, and
# two or more such neighbours may be the fragments of one faint digit (digitpad.fragments).
NOT_DIGIT_LEVEL = 0.5
# Every classifier reads (N, 1, CROP_SIZE, CROP_SIZE) crops. Here, not in preprocess, so that
# loading a model (the classifier module) does not import OpenCV.
CROP_SIZE = 28
# The context stage of a model reads (M, CONTEXT_WIDTH) rows: the 11 class probabilities of a
# box beside its digitpad.context.FEATURES (here for the same reason as CROP_SIZE).
CONTEXT_WIDTH = len(CLASSES) + 13
# a found box reads a true digit when their IoU is at least this (every benchmark's match)
MATCH_IOU = 0.5
# a reading at least this confident is shown as sure (green); under it the app shows it amber or
# red, for review (the colours of digitpad.ui.style; the census counts mistakes against it)
SURE_CONFIDENCE = 0.9


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixels; x1 and y1 are exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)

    def overlap(self, other: Box) -> int:
        """The area the two boxes share (pixels); 0 when they do not meet."""
        ix = min(self.x1, other.x1) - max(self.x0, other.x0)
        iy = min(self.y1, other.y1) - max(self.y0, other.y0)
        return ix * iy if ix > 0 and iy > 0 else 0

    def iou(self, other: Box) -> float:
        """Intersection over union; 0.0 when either box is empty."""
        inter = self.overlap(other)
        if inter == 0:
            return 0.0
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clip(self, width: int, height: int) -> Box:
        """The part of the box inside a ``width`` x ``height`` image."""
        return Box(
            min(max(self.x0, 0), width),
            min(max(self.y0, 0), height),
            min(max(self.x1, 0), width),
            min(max(self.y1, 0), height),
        )

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def scaled(self, factor: float) -> Box:
        """Every coordinate times ``factor``: floor for x0/y0, ceil for x1/y1 (never shrinks)."""
        return Box(
            int(np.floor(self.x0 * factor)),
            int(np.floor(self.y0 * factor)),
            int(np.ceil(self.x1 * factor)),
            int(np.ceil(self.y1 * factor)),
        )


@dataclass(frozen=True, slots=True)
class Alternative:
    """A label the classifier considered, with its probability."""

    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Digit:
    """One recognised digit: where, what, how sure, and what else it might be."""

    box: Box
    label: str  # "0".."9"
    confidence: float  # probability of ``label``, in [0, 1]
    alternatives: tuple[Alternative, ...] = ()  # the next best labels, best first (up to 3)


@dataclass(frozen=True, slots=True)
class PageResult:
    """Everything ``recognise`` found on one page."""

    digits: tuple[Digit, ...]
    text: str  # rows top to bottom separated by "\n", digits left to right, gaps as spaces
    width: int
    height: int
    model_version: str
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class Annotation:
    """A ground-truth object on a synthetic (or imported) page.

    ``label`` is "0".."9" or NOT_DIGIT. ``kind`` says what was drawn ("digit", "letter",
    "quote", "comma", "dot", "dash", "underline", "cross", "scribble", "printed", ...).
    ``touching`` marks a digit that was placed touching or overlapping a neighbour.
    """

    box: Box
    label: str
    kind: str = "digit"
    touching: bool = False

    @property
    def is_digit(self) -> bool:
        return self.label != NOT_DIGIT


@dataclass(frozen=True)
class SynthPage:
    """A generated page: an RGB uint8 image (H, W, 3) and its exact ground truth."""

    image: np.ndarray
    annotations: tuple[Annotation, ...]
    seed: int
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def digits(self) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if a.is_digit)

    @property
    def distractors(self) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if not a.is_digit)


# What happened to one box during a review. "moved" covers resize too.
OUTCOMES: tuple[str, ...] = ("accepted", "relabelled", "moved", "added", "deleted")
PAGE_SOURCES: tuple[str, ...] = ("drawn", "loaded", "imported")


@dataclass(frozen=True, slots=True)
class BoxOutcome:
    """One box of a saved review: what the model said and what the person decided.

    ``predicted_*`` are None for a box the person added (a digit the model missed).
    ``final_label`` is "0".."9", or NOT_DIGIT when the person deleted a prediction.
    ``box`` is the final geometry (for a deleted box, the predicted geometry).
    Outcome precedence: added > deleted > relabelled > moved > accepted.
    """

    box: Box
    final_label: str
    outcome: str
    predicted_box: Box | None = None
    predicted_label: str | None = None
    confidence: float | None = None
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True)
class ReviewPayload:
    """Everything one Save writes, in one transaction: the page and every box outcome."""

    # RGB uint8 (H, W, 3): the page as the person left it (strokes drawn after Recognise
    # included), so every final box refers to the ink it was saved with.
    image: np.ndarray
    source: str  # one of PAGE_SOURCES
    model_version: str  # "v1", "v2", ...
    started_at: float  # epoch seconds when the review began (recognise finished)
    saved_at: float  # epoch seconds of the save
    boxes: tuple[BoxOutcome, ...]
