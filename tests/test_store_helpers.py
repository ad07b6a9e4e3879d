"""Payload builders shared by the store tests (and the durability child process)."""

from __future__ import annotations

import time

import numpy as np

from digitpad.types import NOT_DIGIT, Alternative, Box, BoxOutcome, ReviewPayload


def page(seed: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A small distinct RGB page per seed."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def payload(
    seed: int,
    boxes: tuple[BoxOutcome, ...] | None = None,
    *,
    model: str = "v1",
    source: str = "drawn",
) -> ReviewPayload:
    """A review of page ``seed``; by default one box of each outcome."""
    if boxes is None:
        p = Box(2, 2, 12, 20)
        boxes = (
            BoxOutcome(p, "3", "accepted", p, "3", 0.97, (Alternative("8", 0.02),)),
            BoxOutcome(Box(20, 2, 30, 20), "5", "relabelled", Box(20, 2, 30, 20), "6", 0.55),
            BoxOutcome(Box(34, 3, 44, 21), "1", "moved", Box(34, 2, 44, 20), "1", 0.8),
            BoxOutcome(Box(50, 2, 60, 20), NOT_DIGIT, "deleted", Box(50, 2, 60, 20), "7", 0.51),
            BoxOutcome(Box(2, 25, 12, 45), "9", "added"),
        )
    now = time.time()
    return ReviewPayload(page(seed), source, model, now - 5.0, now, boxes)
