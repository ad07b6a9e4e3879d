"""What the classifier costs: pages read exactly when the classifier's readings of some boxes
are replaced by the truth.

The recogniser reads each page as usual (``recognise_service.read_segmented``: the segmenter's
boxes, its cuts of touching digits, the rules for letters in words and digits in numbers), but
the probabilities of chosen kinds of boxes come from the generator's ground truth instead of the
model: a box that holds most of two true digits is surely "not a digit"; otherwise a box whose
IoU with a true digit is 0.5 or more (the threshold of the benchmark's own match, but per box,
not one-to-one) is surely that digit; every other box is surely "not a digit".

Variants, per seeded page set:

- ``model``: nothing replaced (the recogniser as shipped; equals ``page_sets``);
- ``truth``: every box replaced: the ceiling that the segmenter and the recogniser's rules set
  for a perfect classifier;
- ``<stage>:<kind>``: only that kind of box replaced, where stage is ``whole`` (the segmenter's
  boxes) or ``part`` (any other box: the parts of cuts, and the unions of a faint digit's
  fragments) and kind is ``digit`` (one true digit), ``two`` (most of
  two digits: touching digits kept whole) or ``other`` (letters, marks, fragments, wrong cuts).

Deterministic, no timing. Run: ``.venv/bin/python -m benchmarks.ceiling [--model FILE.onnx]
[--seeds S ...] [--pages N]``; writes benchmarks/results/ceiling.json.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.page_sets import load_for_sets, page_sets_cli
from benchmarks.recognise_bench import match
from digitpad.classifier import Classifier
from digitpad.recognise_service import PageReader, read_segmented, to_digits
from digitpad.segment import Segmentation, segment
from digitpad.synth.pages import generate_pages
from digitpad.training.data import truth_reading
from digitpad.types import Box, PageResult, SynthPage

RESULTS = Path(__file__).resolve().parent / "results" / "ceiling.json"
STAGES = ("whole", "part")
KINDS = ("digit", "two", "other")
Swap = frozenset[tuple[str, str]]
VARIANTS: dict[str, Swap] = {
    "model": frozenset(),
    "truth": frozenset((s, k) for s in STAGES for k in KINDS),
    **{f"{s}:{k}": frozenset({(s, k)}) for s in STAGES for k in KINDS},
}


@dataclass
class Readings:
    """One page's readings, shared by its variants: the model's reader of the page (the first
    batch it reads, the page's own boxes, sets the context stage's scale) and, per batch read
    so far, the model's and the truth's probabilities and the boxes' kinds."""

    reader: PageReader
    batches: dict[tuple[Box, ...], tuple[np.ndarray, np.ndarray, list[str]]] = field(
        default_factory=dict
    )


def mixed_reader(
    seg: Segmentation,
    page: SynthPage,
    classifier: Classifier,
    swap: Swap,
    cache: Readings | None = None,
) -> Callable[[list[Box]], np.ndarray]:
    """A ``read`` for :func:`read_segmented` on ``seg``, the segmentation of ``page``: the
    classifier's probabilities for ink-map ``boxes``, with the truth's for the boxes whose
    (stage, kind) is in ``swap``. A box of the segmenter is stage "whole", any other box (a part
    of a cut, a union of fragments) "part".

    The model reads as the recogniser does (:class:`~digitpad.recognise_service.PageReader`,
    context stage included). ``cache`` (one per page, shared by the variants; see
    :class:`Readings`) keeps the readings of every batch read so far: each variant reads the
    same whole boxes, and most read the same parts, so they are classified once. It is keyed by
    the whole batch, so a row is always the model's reading of exactly the batch the recogniser
    would send.
    """
    h, w = page.image.shape[:2]
    whole = set(seg.ink_boxes)
    cache = Readings(PageReader(classifier, seg)) if cache is None else cache

    def read(boxes: list[Box]) -> np.ndarray:
        key = tuple(boxes)
        if key not in cache.batches:
            model = cache.reader(boxes)
            truth, kinds = truth_reading([seg.to_page(b, w, h) for b in boxes], page.annotations)
            cache.batches[key] = (model, truth, kinds)
        model, truth, kinds = cache.batches[key]
        probs = model.copy()
        for i, (b, kind) in enumerate(zip(boxes, kinds, strict=True)):
            if ("whole" if b in whole else "part", kind) in swap:
                probs[i] = truth[i]
        return probs

    return read


def read_exactly(
    page: SynthPage,
    seg: Segmentation,
    classifier: Classifier,
    swap: Swap,
    cache: Readings | None = None,
) -> bool:
    """Whether the page is read exactly (no missed and no extra digit) with ``swap`` applied
    (``cache``: see :func:`mixed_reader`)."""
    h, w = page.image.shape[:2]
    parts = read_segmented(seg, mixed_reader(seg, page, classifier, swap, cache))
    digits = tuple(to_digits(parts, seg, w, h))
    m = match(PageResult(digits, "", w, h, classifier.version, 0.0), page)
    return m["fp"] == 0 and m["fn"] == 0


def ceiling(model: Path, seeds: tuple[int, ...], pages: int) -> dict[str, object]:
    """Exact share of every variant on every set, their means, and each variant's gain.

    Raises:
        ValueError: no seeds, or ``pages`` under 1.
        ModelError: the model cannot be loaded.
    """
    classifier = load_for_sets(model, seeds, pages)
    sets: dict[str, dict[str, float]] = {}
    for seed in seeds:
        exact = dict.fromkeys(VARIANTS, 0)
        for page in generate_pages(pages, seed):
            seg = segment(page.image)
            cache = Readings(PageReader(classifier, seg))
            for name, swap in VARIANTS.items():
                exact[name] += read_exactly(page, seg, classifier, swap, cache)
        sets[str(seed)] = {name: round(n / pages, 4) for name, n in exact.items()}
    means = {v: round(statistics.mean(s[v] for s in sets.values()), 5) for v in VARIANTS}
    return {
        "model": str(model),
        "pages_per_set": pages,
        "sets": sets,
        "mean_page_exact": means,
        "gain_over_model": {v: round(means[v] - means["model"], 5) for v in VARIANTS},
    }


def main(argv: list[str] | None = None) -> int:
    return page_sets_cli("ceiling", ceiling, RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
