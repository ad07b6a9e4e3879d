"""Pages of an odd size: the fresh page sets read as generated (1024x768 and the like, even
sides) and cut one pixel narrower and shorter, as photos and scans are as often as not.

A step of the segmenter that halves a page reads it otherwise when a side is odd: the ruling
finder's look at half size lost every line one pixel thick there (benchmarks/HISTORY.md).
The generated pages have even sides only, so the other benchmarks never see it. Per set:
exact share and box F1 as generated and cut, and their means. Accuracy only, deterministic.

Run: ``.venv/bin/python -m benchmarks.odd_sizes [--model FILE.onnx] [--seeds S ...]
[--pages N]``; writes benchmarks/results/odd_sizes.json.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from benchmarks.page_sets import load_for_sets, page_sets_cli
from benchmarks.recognise_bench import synthetic_accuracy
from digitpad.recognise_service import Recogniser

RESULTS = Path(__file__).resolve().parent / "results" / "odd_sizes.json"
CUTS = {"as_generated": 0, "odd": 1}


def odd_sizes(model: Path, seeds: tuple[int, ...], pages: int) -> dict[str, object]:
    """Exact share and box F1 of every set, as generated and cut to odd sides, and means.

    Raises:
        ValueError: no seeds, or ``pages`` under 1.
        ModelError: the model cannot be loaded.
    """
    rec = Recogniser(load_for_sets(model, seeds, pages))
    out: dict[str, object] = {"model": str(model), "pages_per_set": pages}
    for name, cut in CUTS.items():
        sets = {str(s): synthetic_accuracy(rec, pages, s, cut=cut) for s in seeds}
        out[name] = {
            "sets": {s: {k: r[k] for k in ("page_exact", "box_f1")} for s, r in sets.items()},
            "mean_page_exact": round(statistics.mean(r["page_exact"] for r in sets.values()), 5),
            "mean_box_f1": round(statistics.mean(r["box_f1"] for r in sets.values()), 4),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    return page_sets_cli("odd_sizes", odd_sizes, RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
