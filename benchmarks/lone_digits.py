"""Lone digits: one generated digit alone on a plain page, read by the model with and without
its context stage.

The real-digit sets (hwd1000, optdigits32) are read the same way, one digit to a page, and they
are validation data: nothing may be chosen on them. This benchmark is the synthetic stand-in to
decide on instead. A page is right when exactly one digit is found, with the right label.
Digits are 40-200 px high, drawn by the generator's glyph renderer, a Hershey font, or rebuilt
from scikit-learn's bundled digits (the three sources of the context stage's plain pages; the
seeds here are other seeds). Deterministic, no timing.

Run: ``.venv/bin/python -m benchmarks.lone_digits [--model FILE.onnx] [--pages N]``; writes
benchmarks/results/lone_digits.json. The model's ``.pt`` beside it gives the classifier alone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.cli import model_count_cli

RESULTS = Path(__file__).resolve().parent / "results" / "lone_digits.json"
SEED = 11_000_000
SOURCES = ("generator", "hershey", "sklearn")


def lone_pages(source: str, n: int, seed: int = SEED) -> list:
    """``n`` seeded pages of one digit from ``source`` (one of :data:`SOURCES`)."""
    from digitpad.synth.pages import page_seed
    from digitpad.training.context import (
        LONE_DIGIT_HEIGHT,
        PLAIN_HEIGHT,
        PLAIN_WIDTH,
        SklearnGlyphs,
    )
    from digitpad.training.data import synth_glyph
    from digitpad.training.drawn import draw_page

    glyph = {"generator": synth_glyph, "hershey": None, "sklearn": SklearnGlyphs()}[source]
    pages = []
    for i in range(n):
        s = page_seed(seed + SOURCES.index(source), i)
        rng = np.random.default_rng(s)
        width, height = int(rng.integers(*PLAIN_WIDTH)), int(rng.integers(*PLAIN_HEIGHT))
        size = {"width": width, "height": height, "digit_height": LONE_DIGIT_HEIGHT}
        pages.append(draw_page(s, n_digits=1, glyph=glyph, **size))
    return pages


def share_right(model: Path, pages: list) -> float:
    """Share of ``pages`` on which the model finds exactly one digit, the right one."""
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser

    rec = Recogniser(Classifier.load(model))
    right = 0
    for page in pages:
        found = rec.recognise(page.image).digits
        right += len(found) == 1 and found[0].label == page.annotations[0].label
    return round(right / len(pages), 4)


def lone_digits(model: Path, pages: int) -> dict[str, object]:
    """Share right per source for the model and for its classifier alone (exported from the
    ``.pt`` beside the model, without its stage), and the means.

    Raises:
        ModelError: the model or its checkpoint cannot be loaded.
    """
    from digitpad.training.export import export_onnx, load_checkpoint

    ckpt = load_checkpoint(Path(model).with_suffix(".pt"))
    bare = {k: v for k, v in ckpt.items() if k != "context"}
    result: dict[str, dict[str, float]] = {"model": {}, "classifier_alone": {}}
    with tempfile.TemporaryDirectory(prefix="digitpad-lone-") as tmp:
        alone = Path(tmp) / "alone.onnx"
        export_onnx(bare, alone, version="alone", metadata={})
        for source in SOURCES:
            drawn = lone_pages(source, pages)
            result["model"][source] = share_right(model, drawn)
            result["classifier_alone"][source] = share_right(alone, drawn)
    means = {k: round(float(np.mean(list(v.values()))), 4) for k, v in result.items()}
    return {"model_file": str(model), "pages_per_source": pages, **result, "mean": means}


def main(argv: list[str] | None = None) -> int:
    return model_count_cli("lone_digits", lone_digits, ("pages", 300), RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
