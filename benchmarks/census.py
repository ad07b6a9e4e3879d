"""Where the pages are lost: the recogniser's mistakes on seeded generated pages, counted by
kind, and the pages read exactly, counted by kind of page.

Per page, found digits are matched one to one to the true digits as the benchmark matches them
(:func:`benchmarks.recognise_bench.matched_pairs`). Every true digit left over is a mistake:

- ``misread``: a found box matched to no other digit sits on it (IoU at least ``MATCH_IOU``),
  with another label;
- ``bad_box``: found boxes overlap it (IoU over ``OVERLAP``), none that well;
- ``missed``: no found box overlaps it by IoU over ``OVERLAP`` (``missed_touching`` when it
  touches another digit).

Found digits that are neither matched nor the misreading of a true digit are extra:
``extra_on_digit`` when they overlap a true digit by IoU over ``OVERLAP`` (a wrong box, a part
of a digit cut in two), ``extra`` when they overlap none (a letter, a mark, a speck). A
missed digit that touches none is traced back through the recogniser (``missed_why``):
``no_box`` (no box of the segmenter reaches IoU ``NO_BOX`` with it), ``broken`` (the
segmenter's best box on it is under ``MATCH_IOU``: the digit fell apart or joined other
ink), ``classifier`` (its box read "not a digit" by the classifier), ``stage`` (by the
context stage only) or ``rules`` (read as a digit, then lost to a cut or the rule for
letters in words).

Mistakes are records per true digit and per extra box, so a digit cut in two counts as a bad
box and two extra boxes on it. A lost page is counted by how many mistakes it has and, when
they are all of one kind, under that kind (``lost_to_one_kind``): the pages that fixing that
kind alone would win back. And the
readings are held against the app's colours (``shown_unsure``): the share of misread digits
shown amber or red (confidence under ``SURE_CONFIDENCE``), against the share of right ones.

Deterministic, no timing. Run: ``.venv/bin/python -m benchmarks.census [--model FILE.onnx]
[--seeds S ...] [--pages N]``; writes benchmarks/results/census.json.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.page_sets import load_for_sets, page_sets_cli
from benchmarks.recognise_bench import matched_pairs
from digitpad.classifier import Classifier
from digitpad.recognise_service import PageReader, read_segmented, to_digits
from digitpad.segment import Segmentation, segment
from digitpad.synth.pages import generate_pages
from digitpad.types import (
    MATCH_IOU,
    NOT_DIGIT_INDEX,
    NOT_DIGIT_LEVEL,
    SURE_CONFIDENCE,
    Annotation,
    Digit,
    SynthPage,
)

RESULTS = Path(__file__).resolve().parent / "results" / "census.json"
OVERLAP = 0.1  # a found box overlapping a true digit by more than this IoU is a bad box on it
NO_BOX = 0.05  # no box of the segmenter reaches this IoU with the digit: it has no box
MISTAKES = ("misread", "bad_box", "missed", "missed_touching", "extra_on_digit", "extra")
MANY = 3  # lost pages with this many mistakes or more are counted together
WHY = ("no_box", "broken", "classifier", "stage", "rules")


def sort_mistakes(
    found: Sequence[Digit], truth: Sequence[Annotation]
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int]]]:
    """The mistakes of one page, kinds as in the module's docstring: ``(kind, index into
    truth, index into found)`` for every true digit the matching leaves over (the found index
    is the misreading box's, -1 for the other kinds), and ``(kind, index into found)`` for
    every extra found digit."""
    pairs = matched_pairs(found, truth)
    used = {i for i, _ in pairs}
    right = {j for _, j in pairs}
    out = []
    for j, t in enumerate(truth):
        if j in right:
            continue
        # a box matched to another digit is no misreading of this one
        free = [(f.box.iou(t.box), i) for i, f in enumerate(found) if i not in used]
        iou, best = max(free, default=(0.0, -1))
        if iou >= MATCH_IOU:
            out.append(("misread", j, best))
            used.add(best)
        elif max((f.box.iou(t.box) for f in found), default=0.0) > OVERLAP:
            out.append(("bad_box", j, -1))
        else:
            out.append(("missed_touching" if t.touching else "missed", j, -1))
    extra = []
    for i, f in enumerate(found):
        if i not in used:
            on_digit = any(f.box.iou(t.box) > OVERLAP for t in truth)
            extra.append(("extra_on_digit" if on_digit else "extra", i))
    return out, extra


def shown_unsure(
    found: Sequence[Digit],
    mistakes: list[tuple[str, int, int]],
    extra: list[tuple[str, int]],
) -> tuple[Counter[str], int]:
    """How many of a page's misread digits and of its right ones the app shows unsure
    (confidence under ``SURE_CONFIDENCE``: amber or red), and how many right ones there are.
    ``mistakes`` and ``extra`` are :func:`sort_mistakes`' for ``found``: every found digit is
    right, the misreading of a true digit, or extra."""
    misread = [i for k, _, i in mistakes if k == "misread"]
    wrong = set(misread) | {i for _, i in extra}
    right = [i for i in range(len(found)) if i not in wrong]
    unsure = Counter(
        misread=sum(found[i].confidence < SURE_CONFIDENCE for i in misread),
        right=sum(found[i].confidence < SURE_CONFIDENCE for i in right),
    )
    return unsure, len(right)


def why_missed(
    digit: Annotation, seg: Segmentation, reader: PageReader, width: int, height: int
) -> str:
    """Why a lone true ``digit`` that no found box overlaps by IoU over ``OVERLAP`` was lost
    (see ``WHY``), from the segmentation and the reader that read the page.

    Raises:
        IndexError: the reader was not made with ``record=True`` (it kept no rows).
    """
    whole, rows = reader.rows[0]  # the first batch a page reader reads is the page's own boxes
    ious = [seg.to_page(b, width, height).iou(digit.box) for b in whole]
    if not ious or max(ious) < NO_BOX:
        return "no_box"
    k = int(np.argmax(ious))
    if ious[k] < MATCH_IOU:
        return "broken"
    # the row starts with the classifier's probabilities
    if rows[k, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL:
        return "classifier"
    if reader.classifier.rerank(rows[k : k + 1])[0, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL:
        return "stage"
    return "rules"


def page_census(page: SynthPage, classifier: Classifier) -> dict[str, object]:
    """One page read as the recogniser reads it: its mistakes, why its lone digits were missed,
    what its misread digits were read as, whether it was read exactly, and how many of its
    misread and of its right digits are shown unsure (see ``SURE_CONFIDENCE``)."""
    seg = segment(page.image)
    h, w = page.image.shape[:2]
    reader = PageReader(classifier, seg, record=True)
    found = to_digits(read_segmented(seg, reader), seg, w, h)
    truth = page.digits
    mistakes, extra = sort_mistakes(found, truth)
    misread_as = [f"{truth[j].label}>{found[i].label}" for k, j, i in mistakes if k == "misread"]
    why = [why_missed(truth[j], seg, reader, w, h) for k, j, _ in mistakes if k == "missed"]
    unsure, right = shown_unsure(found, mistakes, extra)
    return {
        "mistakes": Counter(k for k, *_ in mistakes + extra),
        "kinds": [k for k, *_ in mistakes + extra],
        "unsure": unsure,
        "right": right,
        "why": Counter(why),
        "misread_as": Counter(misread_as),
        "exact": not mistakes and not extra,
        "digits": len(truth),
    }


def census(model: Path, seeds: tuple[int, ...], pages: int) -> dict[str, object]:
    """Mistakes by kind, lone digits missed by cause, every misreading (true>read, most common
    first), lost pages by their number of mistakes and by their only kind, the share of misread
    and of right digits shown unsure, and the share of pages read exactly by ink and ruling,
    over ``pages`` pages of each seed.

    Raises:
        ValueError: no seeds, or ``pages`` under 1.
        ModelError: the model cannot be loaded.
    """
    classifier = load_for_sets(model, seeds, pages)
    mistakes, why, misread_as = Counter(), Counter(), Counter()
    by_count, one_kind, unsure = Counter(), Counter(), Counter()
    kinds: dict[str, list[int]] = {}
    n_pages = n_exact = n_digits = n_right = 0
    for seed in seeds:
        for page in generate_pages(pages, seed):
            c = page_census(page, classifier)
            mistakes.update(c["mistakes"])
            why.update(c["why"])
            misread_as.update(c["misread_as"])
            unsure.update(c["unsure"])
            n_right += int(c["right"])
            if c["kinds"]:
                by_count[min(len(c["kinds"]), MANY)] += 1
                if len(set(c["kinds"])) == 1:
                    one_kind[c["kinds"][0]] += 1
            kind = kinds.setdefault(f"{page.meta['ink']} on {page.meta['ruling']}", [0, 0])
            kind[0] += 1
            kind[1] += int(c["exact"])
            n_pages += 1
            n_exact += int(c["exact"])
            n_digits += int(c["digits"])
    return {
        "model": str(model),
        "seeds": list(seeds),
        "pages": n_pages,
        "page_exact": round(n_exact / n_pages, 5),
        "true_digits": n_digits,
        "mistakes": {k: mistakes[k] for k in MISTAKES},
        "missed_why": {k: why[k] for k in WHY},
        "misread_as": dict(misread_as.most_common()),
        "lost_by_mistakes": {
            f"{n}{'+' if n == MANY else ''}": by_count[n] for n in range(1, MANY + 1)
        },
        "lost_to_one_kind": {k: one_kind[k] for k in MISTAKES},
        "shown_unsure": {
            "misread": round(unsure["misread"] / max(1, mistakes["misread"]), 4),
            "right": round(unsure["right"] / max(1, n_right), 4),
        },
        "by_page_kind": {
            k: {"pages": n, "exact": round(ok / n, 4), "lost": n - ok}
            for k, (n, ok) in sorted(kinds.items(), key=lambda kv: kv[1][1] - kv[1][0])
        },
    }


def main(argv: list[str] | None = None) -> int:
    return page_sets_cli("census", census, RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
