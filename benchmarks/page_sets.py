"""Share of generated pages read exactly, per seeded page set, for comparing models and
recogniser changes on pages nothing was chosen on.

Every set is ``recognise_bench.synthetic_accuracy`` on ``--pages`` pages of one seed. The
default seeds, 9.6-9.9 M and 10.0-10.3 M, are the fresh sets of the README: the error-analysis
sets (9.2-9.5 M) were overfit by the choices made on them, and the benchmark's held-out set
(9.1 M) is only measured. Accuracy only, no timing: the result is deterministic.

Run: ``.venv/bin/python -m benchmarks.page_sets [--model FILE.onnx] [--seeds S ...]``; writes
benchmarks/results/page_sets.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.cli import report
from benchmarks.recognise_bench import synthetic_accuracy
from digitpad.classifier import Classifier
from digitpad.commands import positive_int
from digitpad.errors import ModelError
from digitpad.home import shipped_model_path
from digitpad.recognise_service import Recogniser

FRESH_SEEDS = tuple(range(9_600_000, 10_400_000, 100_000))
RESULTS = Path(__file__).resolve().parent / "results" / "page_sets.json"


def page_sets(model: Path, seeds: tuple[int, ...], pages: int) -> dict[str, object]:
    """Exact share and box F1 of every set, and their means.

    Raises:
        ModelError: the model cannot be loaded.
    """
    rec = Recogniser(Classifier.load(model))
    sets = {str(s): synthetic_accuracy(rec, pages, s) for s in seeds}
    return {
        "model": str(model),
        "pages_per_set": pages,
        "sets": {s: {k: r[k] for k in ("page_exact", "box_f1")} for s, r in sets.items()},
        "mean_page_exact": round(statistics.mean(r["page_exact"] for r in sets.values()), 5),
        "mean_box_f1": round(statistics.mean(r["box_f1"] for r in sets.values()), 4),
    }


def load_for_sets(model: Path, seeds: tuple[int, ...], pages: int) -> Classifier:
    """The classifier of ``model`` for a benchmark over ``pages`` pages of each of ``seeds``.

    Raises:
        ValueError: no seeds, or ``pages`` under 1.
        ModelError: the model cannot be loaded.
    """
    if not seeds or pages < 1:
        raise ValueError(f"need seeds and pages >= 1, got {len(seeds)} seeds and {pages} pages")
    return Classifier.load(model)


def page_sets_cli(
    name: str,
    measure: Callable[[Path, tuple[int, ...], int], dict[str, object]],
    default_out: Path,
    argv: list[str] | None,
) -> int:
    """The command line shared by the benchmarks over seeded page sets: ``--model``, ``--seeds``,
    ``--pages``, ``--out``; prints ``measure``'s result as JSON and writes it to ``--out``.

    Returns 0, or 1 after a one-line error on stderr when the model cannot be loaded or the
    result cannot be written. Raises SystemExit(2) for bad arguments (argparse).
    """
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}")
    parser.add_argument("--model", type=Path, default=shipped_model_path())
    parser.add_argument("--seeds", type=int, nargs="+", default=list(FRESH_SEEDS))
    parser.add_argument("--pages", type=positive_int, default=200)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    try:
        result = measure(args.model, tuple(args.seeds), args.pages)
    except ModelError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    return report(name, result, args.out)


def main(argv: list[str] | None = None) -> int:
    return page_sets_cli("page_sets", page_sets, RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
