"""The recognition pipeline: page image -> segmentation -> crops -> batched inference ->
labelled boxes and reading text.

Every step is a pure function (``plan_candidates``, ``crop_batch``, ``to_digits``; which reading
of each box wins in :mod:`digitpad.choose`, the unions of a faint digit's fragments in
:mod:`digitpad.fragments`, the rules for words and numbers on a line in
:mod:`digitpad.line_rules`) or reads crops through the classifier it is
given (``read_crops``, then the model's context stage: :class:`PageReader`);
:class:`Recogniser` strings them together around a :class:`~digitpad.classifier.Classifier`.
Never imports torch.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.choose import Candidate, decide, settled_boxes, stem_boxes
from digitpad.classifier import Classifier
from digitpad.context import (
    box_features,
    context_input,
    hanging_marks,
    ink_integrals,
    small_digits,
)
from digitpad.errors import ModelError
from digitpad.fragments import join_arms, join_fragments, join_specks
from digitpad.home import Home, resolve_home
from digitpad.imageio import load_image
from digitpad.line_rules import drop_letters_in_words, keep_digits_in_numbers
from digitpad.preprocess import preprocess_boxes, zoomed
from digitpad.reading import group_rows, reading_text
from digitpad.segment import (
    Segmentation,
    component_parts,
    loose_boxes,
    segment,
    split_candidates,
    stem_cuts,
)
from digitpad.types import (
    CLASSES,
    NOT_DIGIT_INDEX,
    NOT_DIGIT_LEVEL,
    Alternative,
    Box,
    Digit,
    PageResult,
)

# A crop that no class reaches LOOK_AGAIN_BELOW for is read again drawn at LOOK_AGAIN_ZOOMS of
# its size, and its readings are averaged, "not a digit" included: one view of a fragment, a
# letter or a faint digit misleads the small network far more often than three views agree
# (analysis pages 9.2-9.5 M: 69.25 -> 73.1 % read exactly, mean of the four). Sure crops, most
# of a page, are read once; the unsure ones of a pass go in one more batched call.
LOOK_AGAIN_BELOW = 0.95
LOOK_AGAIN_ZOOMS = (0.9, 1.1)


def read_crops(classifier: Classifier, batch: np.ndarray) -> np.ndarray:
    """Class probabilities (N, 11) for the model inputs ``batch`` (N, 1, 28, 28).

    One batched call reads every crop; the unsure ones (see ``LOOK_AGAIN_BELOW``) are then read
    again at ``LOOK_AGAIN_ZOOMS`` in a second call, and each of their rows becomes the mean of
    its readings. Rows of sure crops are exactly the classifier's.
    """
    probs = classifier.predict(batch)
    unsure = np.flatnonzero(probs.max(axis=1) < LOOK_AGAIN_BELOW)
    if unsure.size == 0:
        return probs
    views = np.concatenate([zoomed(batch[unsure], z) for z in LOOK_AGAIN_ZOOMS])
    again = classifier.predict(views).reshape(len(LOOK_AGAIN_ZOOMS), unsure.size, -1)
    out = probs.copy()
    out[unsure] = (probs[unsure] + again.sum(axis=0)) / (1 + len(LOOK_AGAIN_ZOOMS))
    return out


class PageReader:
    """The ``read`` of :func:`read_segmented` for one segmented page and one classifier.

    Boxes are cut out, read by the classifier (:func:`read_crops`) and, when the model has a
    context stage, read again beside their :func:`~digitpad.context.box_features`. The first
    call must be the page's own boxes (``read_segmented`` makes it so): their readings set the
    scale of the page for every later call. Any later box is read as a part of a cut
    (``is_part``): the parts of cuts, and the unions of fragments and the fragments read with
    their specks, which the stage never met in training and reads as boxes the segmenter did
    not propose (the levels a union and a fragment with its specks must reach were chosen
    reading them so). A small digit beside big ones that the stage turns down keeps the
    classifier's reading (:func:`~digitpad.context.small_digits`), and a mark hanging from the
    top of its row is "not a digit" (:func:`~digitpad.context.hanging_marks`). With ``record``,
    every call's context rows and boxes are kept in ``rows`` (training collects them; see
    ``digitpad.training.context``).

    Raises:
        ValueError: the first call is not the page's own boxes (``seg.ink_boxes``, once each).
    """

    def __init__(self, classifier: Classifier, seg: Segmentation, *, record: bool = False) -> None:
        self.classifier = classifier
        self.seg = seg
        self.record = record
        self.rows: list[tuple[list[Box], np.ndarray]] = []
        self._whole: tuple[list[Box], np.ndarray] | None = None
        self._integrals: tuple[np.ndarray, np.ndarray] | None = None  # of the page, once
        self._known: set[Box] = set()  # the page's own boxes, to tell parts of cuts from them

    def __call__(self, boxes: list[Box]) -> np.ndarray:
        clf = self.classifier
        if self._whole is None and boxes != list(dict.fromkeys(self.seg.ink_boxes)):
            raise ValueError("a page reader reads the page's own boxes first")
        probs = read_crops(clf, preprocess_boxes(self.seg.ink_u8, boxes))
        if self._whole is None:
            self._whole = (boxes, probs)
        if not (clf.has_context or self.record):
            return probs
        whole, whole_probs = self._whole
        if self._integrals is None:  # once per page, not once per batch
            self._integrals = ink_integrals(self.seg.ink_u8)
            self._known = set(whole)
        mask = np.fromiter((b in self._known for b in boxes), bool, len(boxes))
        features = box_features(self.seg.ink_u8, boxes, whole, whole_probs, mask, self._integrals)
        rows = context_input(probs, features)
        if self.record:
            self.rows.append((boxes, rows))
        staged = clf.rerank(rows)
        if not clf.has_context:
            # training reads through the bare classifier: it must meet the pages as it did
            # when the shipped stage was trained, or make model builds other weights
            return staged
        small = small_digits(rows, staged)
        staged[small] = probs[small]
        hanging = hanging_marks(rows, staged)
        staged[hanging] = 0.0
        staged[hanging, NOT_DIGIT_INDEX] = 1.0
        return staged


def plan_candidates(
    seg: Segmentation,
    settled: frozenset[Box] = frozenset(),
    boxes: list[Box] | None = None,
    *,
    components: bool = True,
    stems: frozenset[Box] = frozenset(),
) -> list[Candidate]:
    """Every box of ``boxes`` (default: ``seg.ink_boxes``) with its whole reading plus any
    touching-digit splits and, with ``components``, its pieces of ink that do not touch, one
    box each (see :func:`~digitpad.segment.component_parts`).

    Boxes in ``settled`` get only their whole reading (see
    :func:`~digitpad.choose.settled_boxes`). Boxes in ``stems`` also get their cuts beside a
    stem (:func:`~digitpad.segment.stem_cuts`) as fallbacks, those that are not among their
    readings already.
    """
    out = []
    for b in seg.ink_boxes if boxes is None else boxes:
        splits: list[tuple[Box, ...]] = []
        if b not in settled:
            splits = split_candidates(seg.ink_u8, b)
            apart = component_parts(seg.ink_u8, b) if components else None
            if apart is not None and apart not in splits:
                splits.append(apart)
        readings = ((b,), *splits)
        fallbacks: tuple[tuple[Box, ...], ...] = ()
        if b in stems:
            fallbacks = tuple(r for r in stem_cuts(seg.ink_u8, b) if r not in readings)
        out.append(Candidate(b, readings, fallbacks))
    return out


def crop_batch(ink: np.ndarray, candidates: list[Candidate]) -> tuple[np.ndarray, list[Box]]:
    """All distinct boxes of all readings and fallbacks, preprocessed into one (N, 1, 28, 28)
    batch."""
    index: dict[Box, int] = {}
    for c in candidates:
        for reading in (*c.readings, *c.fallbacks):
            for b in reading:
                index.setdefault(b, len(index))
    boxes = list(index)
    return preprocess_boxes(ink, boxes), boxes


def to_digits(
    parts: list[tuple[Box, np.ndarray]],
    seg: Segmentation,
    width: int,
    height: int,
    *,
    min_confidence: float = 0.0,
) -> list[Digit]:
    """Digits for the chosen parts: boxes in page pixels, top-3 alternatives, filtered.

    A part is dropped when "not a digit" has probability ``NOT_DIGIT_LEVEL`` (0.5) or more, or
    its best digit's probability is below ``min_confidence``.
    """
    digits = []
    for b, p in parts:
        if p[NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL:
            continue
        order = np.argsort(-p[:NOT_DIGIT_INDEX], kind="stable")
        conf = float(p[order[0]])
        if conf < min_confidence:
            continue
        alts = tuple(Alternative(CLASSES[k], float(p[k])) for k in order[1:4])
        box = seg.to_page(b, width, height)
        digits.append(Digit(box, CLASSES[order[0]], conf, alts))
    return digits


def read_segmented(
    seg: Segmentation, read: Callable[[list[Box]], np.ndarray], *, unions: bool = True
) -> list[tuple[Box, np.ndarray]]:
    """The chosen parts of a segmented page (boxes in ink-map pixels, like ``seg.ink_boxes``),
    each with its class probabilities.

    ``read(boxes)`` gives the (N, 11) probabilities of ink-map boxes; it is called once for
    the whole boxes; with ``unions``, once more for the unions of fragments, once more for
    the fragments with their specks and once more for arms beside their stems, each only when
    there are any (see :func:`~digitpad.fragments.join_fragments`, ``join_specks`` and
    ``join_arms``); then at most once more for the parts of the splits that could still win (a
    box read surely whole needs none) and, with ``unions``, for the pieces of such a box read
    apart and the cuts beside a stem of the boxes not read surely as one digit (read in that
    call, taken only as a fallback: see :func:`~digitpad.choose.stem_boxes`). Without
    ``unions`` the page is read as the shipped context stage's training rows were collected.
    The recogniser reads through its classifier; the ceiling benchmark reads some boxes from
    the ground truth instead.
    """
    whole = list(dict.fromkeys(seg.ink_boxes))
    probs = read(whole)
    joined: frozenset[Box] = frozenset()
    if unions:
        whole, probs, joined = join_fragments(whole, probs, read)
        whole, probs, specks = join_specks(whole, probs, read, partial(loose_boxes, seg.ink_u8))
        whole, probs, arms = join_arms(whole, probs, read)
        joined |= specks | arms
    # a union was taken as one digit: cutting it again would undo that
    # the stage's training rows were collected with no box read as its pieces apart, nor cut
    # beside a stem
    stems = stem_boxes(whole, probs) - joined if unions else frozenset()
    candidates = plan_candidates(
        seg, settled_boxes(whole, probs) | joined, whole, components=unions, stems=stems
    )
    known = set(whole)
    extra = list(
        dict.fromkeys(
            b
            for c in candidates
            for r in (*c.readings[1:], *c.fallbacks)
            for b in r
            if b not in known
        )
    )
    if extra:
        probs = np.concatenate([probs, read(extra)])
    return keep_digits_in_numbers(drop_letters_in_words(decide(candidates, whole + extra, probs)))


def in_reading_order(digits: list[Digit]) -> list[Digit]:
    """``digits`` row by row (top to bottom), left to right within a row: the order of the text."""
    return [digits[i] for row in group_rows([d.box for d in digits]) for i in row]


class Recogniser:
    """Recognises pages with one classifier. ``classifier`` may be swapped at any time (the app
    swaps in a retrained model); each call uses the classifier it started with."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def recognise(self, image: Any, *, min_confidence: float = 0.0) -> PageResult:
        """Find and read every digit in ``image`` (a path, PIL image or numpy array).

        Raises:
            ImageError: the image cannot be read or is too large.
        """
        t0 = time.perf_counter()
        clf = self.classifier
        rgb = load_image(image)
        h, w = rgb.shape[:2]
        return read_page(clf, segment(rgb), w, h, min_confidence=min_confidence, started=t0)


def read_page(
    classifier: Classifier,
    seg: Segmentation,
    width: int,
    height: int,
    *,
    min_confidence: float = 0.0,
    started: float | None = None,
) -> PageResult:
    """The reading of a page already segmented (``seg`` of a ``width`` x ``height`` image): the
    second half of :meth:`Recogniser.recognise`, for callers that read one page with several
    models and segment it once. The time taken counts from ``started`` (a
    ``time.perf_counter()`` value; default: now)."""
    t0 = time.perf_counter() if started is None else started
    parts = read_segmented(seg, PageReader(classifier, seg))
    digits = in_reading_order(to_digits(parts, seg, width, height, min_confidence=min_confidence))
    text = reading_text(digits, seg.frames, seg.walls)
    elapsed = (time.perf_counter() - t0) * 1000.0
    return PageResult(tuple(digits), text, width, height, classifier.version, elapsed)


# --- default model ---------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple[str, float], Classifier] = {}


def default_model_path(home: Home | None = None) -> Path:
    """The ONNX file of the home's active model (the registry decides; v1 is the shipped one).

    Raises:
        ModelError: no usable model.
    """
    from digitpad.registry import active_model_path

    return active_model_path(home or resolve_home())


def load_classifier(path: Path | str) -> Classifier:
    """Load ``path``, reusing an already loaded session while the file is unchanged.

    Raises:
        ModelError: the file is missing or not a usable model.
    """
    try:
        path = os.fsdecode(path)  # a PathLike may give bytes
    except TypeError:
        raise ModelError(f"no model file: {path!r} is not a path") from None
    if not path.strip():  # Path("") is the current folder, a confusing "not found"
        raise ModelError("no model file named (the path is empty)")
    p = Path(path).resolve()
    try:
        key = (str(p), p.stat().st_mtime)
    except OSError:
        raise ModelError(f"model file not found: {path}") from None
    with _cache_lock:
        clf = _cache.get(key)
        if clf is None:
            clf = Classifier.load(p)
            _cache.clear()  # keep one model: the app swaps, it does not collect
            _cache[key] = clf
        return clf


def load_default_classifier(home: Home | None = None) -> Classifier:
    """The classifier of the home's active model.

    Raises:
        ModelError: no usable model.
    """
    return load_classifier(default_model_path(home))


def recognise(image: Any, *, model: Classifier | Path | str | None = None) -> PageResult:
    """Find and read every digit in ``image`` (a path, a PIL image or a numpy array).

    ``model`` is a loaded :class:`Classifier`, a path to an ONNX file, or None for the active
    model of the data home. Boxes in the result are in original image pixels, after EXIF
    orientation, x1/y1 exclusive.

    Raises:
        ImageError: the image cannot be read or is too large.
        ModelError: the model cannot be loaded (or ``model`` is neither a model nor a path).
    """
    if isinstance(model, Classifier):
        clf = model
    elif model is None:
        clf = load_default_classifier()
    elif isinstance(model, (str, os.PathLike)):
        clf = load_classifier(model)
    else:
        raise ModelError(f"model must be a Classifier or a path, not a {type(model).__name__}")
    return Recogniser(clf).recognise(image)
