"""Correction store speed: import 10,000 boxes (<= 5 s), stats over 100,000 boxes (<= 200 ms).

Import: a COCO dataset of 250 pages of 1024x768 with 40 boxes each is written once, then imported
into a fresh store ``--runs`` times (the whole service: read + validate, hash and store the page
files, one transaction). Stats: a store is filled with 100,000 reviewed boxes through
``save_review`` (2,500 reviews, mixed outcomes, three model versions), then ``stats()`` is timed
on a fresh connection and warm. Medians are reported; nothing is asserted.

    .venv/bin/python -m benchmarks.store_speed [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from digitpad.formats import LabelledImage, write_coco
from digitpad.interop import import_dataset
from digitpad.store import CorrectionStore
from digitpad.types import CLASSES, DIGITS, NOT_DIGIT, Annotation, Box, BoxOutcome, ReviewPayload

RESULTS = Path(__file__).resolve().parent / "results" / "store_speed.json"


def _page(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A paper-like page: light noise with dark strokes, so PNGs have realistic sizes."""
    img = np.full((height, width, 3), 245, np.uint8)
    img -= rng.integers(0, 12, size=(height, width, 1), dtype=np.uint8)
    for _ in range(60):
        y, x = rng.integers(0, height - 30), rng.integers(0, width - 20)
        img[y : y + 25, x : x + 3] = 30
    return img


def _dataset(root: Path, pages: int, per_page: int) -> Path:
    import cv2

    rng = np.random.default_rng(0)
    images = root / "coco" / "images"
    images.mkdir(parents=True)
    items = []
    for i in range(pages):
        anns = []
        for k in range(per_page):
            x, y = 20 + (k % 10) * 95, 20 + (k // 10) * 180
            label = CLASSES[int(rng.integers(0, len(CLASSES)))]
            anns.append(Annotation(Box(x, y, x + 40, y + 60), label))
        # Written with fast PNG compression (as `digitpad synth` does); write_coco leaves it.
        path = images / f"page_{i:04d}.png"
        cv2.imwrite(str(path), _page(rng, 1024, 768), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        items.append(LabelledImage(path, 1024, 768, tuple(anns)))
    return write_coco(items, root / "coco")


def bench_import(runs: int, pages: int, per_page: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        src = _dataset(Path(tmp), pages, per_page)
        times = []
        for run in range(runs):
            store_path = Path(tmp) / f"home{run}" / "corrections" / "digitpad.sqlite"
            with CorrectionStore(store_path) as store:
                t0 = time.perf_counter()
                report = import_dataset(store, src, "coco")
                times.append(time.perf_counter() - t0)
            assert report.boxes_added == pages * per_page
    return {
        "boxes": pages * per_page,
        "pages": pages,
        "median_s": statistics.median(times),
        "runs_s": [round(t, 4) for t in times],
        "target_s": 5.0,
    }


def _review_boxes(rng: np.random.Generator, n: int) -> tuple[BoxOutcome, ...]:
    boxes = []
    for k in range(n):
        x = 2 + (k % 10) * 6
        p = Box(x, 2 + (k // 10) * 11, x + 5, 12 + (k // 10) * 11)
        pred = DIGITS[int(rng.integers(0, 10))]
        r = rng.random()
        if r < 0.90:
            boxes.append(BoxOutcome(p, pred, "accepted", p, pred, 0.95))
        elif r < 0.95:
            other = DIGITS[(DIGITS.index(pred) + 1) % 10]
            boxes.append(BoxOutcome(p, other, "relabelled", p, pred, 0.6))
        elif r < 0.98:
            boxes.append(BoxOutcome(p, NOT_DIGIT, "deleted", p, pred, 0.5))
        else:
            boxes.append(BoxOutcome(p, pred, "added"))
    return tuple(boxes)


def bench_stats(runs: int, total_boxes: int, per_review: int = 40) -> dict[str, float | int]:
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corrections" / "digitpad.sqlite"
        t0 = time.perf_counter()
        with CorrectionStore(path) as store:
            for i in range(total_boxes // per_review):
                img = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
                now = time.time()
                boxes = _review_boxes(rng, per_review)
                store.save_review(
                    ReviewPayload(
                        img,
                        "drawn",
                        f"v{1 + i * 3 // (total_boxes // per_review)}",
                        now - 3,
                        now,
                        boxes,
                    )
                )
        fill_s = time.perf_counter() - t0
        cold, warm = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            with CorrectionStore(path) as store:
                stats = store.stats()
                cold.append(time.perf_counter() - t0)
                for _ in range(3):
                    t1 = time.perf_counter()
                    store.stats()
                    warm.append(time.perf_counter() - t1)
    assert stats.boxes == total_boxes
    return {
        "boxes": stats.boxes,
        "reviews": stats.reviews,
        "fill_s": round(fill_s, 2),
        "saves_per_s": round(stats.reviews / fill_s, 1),
        "open_and_stats_median_ms": 1000 * statistics.median(cold),
        "stats_median_ms": 1000 * statistics.median(warm),
        "target_ms": 200.0,
        "overall_accuracy": stats.overall.accuracy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=250)
    parser.add_argument("--boxes-per-page", type=int, default=40)
    parser.add_argument("--stats-boxes", type=int, default=100_000)
    args = parser.parse_args(argv)
    imp = bench_import(args.runs, args.pages, args.boxes_per_page)
    print(
        f"import {imp['boxes']:,} boxes ({imp['pages']} pages of 1024x768): "
        f"median {imp['median_s']:.2f} s (target <= 5 s), runs {imp['runs_s']}"
    )
    st = bench_stats(args.runs, args.stats_boxes)
    print(
        f"stats over {st['boxes']:,} boxes: median {st['stats_median_ms']:.1f} ms warm, "
        f"{st['open_and_stats_median_ms']:.1f} ms open+stats (target <= 200 ms); "
        f"filled with {st['reviews']:,} save_review calls at {st['saves_per_s']}/s"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "import": imp,
        "stats": st,
        "command": "python -m benchmarks.store_speed",
        "runs": args.runs,
    }
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(RESULTS)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
