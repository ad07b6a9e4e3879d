"""``make bench``: run every benchmark module in ``benchmarks/`` in a fixed order.

A benchmark module defines ``main(argv: list[str] | None = None) -> int``, prints a readable
summary, and writes its numbers to ``benchmarks/results/<name>.json``. Benchmarks measure;
they never assert a timing.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Cheap ones first, so a slow one cannot hide the quick numbers.
ORDER = [
    "synth_speed",
    "store_speed",
    "startup",
    "recognise_bench",
    "synth_realism",
    "retrain_speed",
    "adaptation",
]


def main() -> int:
    present = {p.stem for p in HERE.glob("*.py") if p.stem not in ("__init__", "run_all")}
    names = [n for n in ORDER if n in present] + sorted(present - set(ORDER))
    failed = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n=== {name}", flush=True)
        t0 = time.monotonic()
        rc = module.main([])
        print(f"=== {name}: exit {rc} in {time.monotonic() - t0:.1f}s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
