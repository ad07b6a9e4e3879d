"""Synthetic page generation speed on one core: 1024x768 pages with 20 digits each.

The process is pinned to a single CPU and OpenCV to a single thread, then ``--runs`` batches of
``--pages`` pages are timed; the median batch rate is the number reported.

    .venv/bin/python -m benchmarks.synth_speed [--runs 5] [--pages 40]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "synth_speed.json"
TARGET_PAGES_PER_S = 20.0


def _one_core() -> int | None:
    """Pin this process to one CPU; the CPU used, or None where pinning is unsupported."""
    import cv2

    cv2.setNumThreads(1)
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="synth_speed", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pages", type=int, default=40, help="pages per timed run")
    ap.add_argument("--digits", type=int, default=20)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    cpu = _one_core()
    import numpy as np

    from digitpad.synth.pages import PageConfig, generate_pages

    config = PageConfig(width=1024, height=768, min_digits=args.digits, max_digits=args.digits)
    list(generate_pages(3, seed=999, config=config))  # warm caches (grain field, fonts)
    rates, cpu_rates, digits = [], [], []
    for run in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        pages = list(generate_pages(args.pages, seed=run, config=config))
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rates.append(args.pages / dt)
        cpu_rates.append(args.pages / dc)
        digits += [len(p.digits) for p in pages]
        print(f"run {run + 1}: {rates[-1]:.1f} pages/s ({cpu_rates[-1]:.1f} per CPU second)")
    med, cpu_med = float(np.median(rates)), float(np.median(cpu_rates))
    # Wall-clock is the headline; per CPU second shows what a busy shared machine hides.
    print(
        f"median {med:.1f} pages/s on one core (target {TARGET_PAGES_PER_S:.0f}), "
        f"{cpu_med:.1f} pages per CPU second; {np.mean(digits):.1f} digits per page on average"
    )
    result = {
        "pages_per_s_median": round(med, 2),
        "pages_per_cpu_s_median": round(cpu_med, 2),
        "pages_per_s_runs": [round(r, 2) for r in rates],
        "target": TARGET_PAGES_PER_S,
        "page_size": [1024, 768],
        "digits_per_page_mean": round(float(np.mean(digits)), 2),
        "pages_per_run": args.pages,
        "cpu": cpu,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
