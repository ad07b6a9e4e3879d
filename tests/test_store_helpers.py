"""Payload builders shared by the store tests (and the durability child process)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

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


@contextlib.contextmanager
def older_store(monkeypatch: pytest.MonkeyPatch, store_path: Path, version: int) -> Iterator[None]:
    """Within: the store at ``store_path`` is made as schema ``version`` had it and written by
    today's code. On leaving, the pages' pixels (schema 4, which today's code needs in order to
    write) are dropped, so the store is as a digitpad of schema ``version`` left it."""
    from digitpad.store import schema

    pixels = schema.MIGRATIONS[3][2]
    last = schema.MIGRATIONS[version - 1]
    older = (*schema.MIGRATIONS[: version - 1], (last[0], last[1], (*last[2], *pixels)))
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", older)
        patch.setattr(schema, "LATEST", version)
        yield
    with contextlib.closing(sqlite3.connect(store_path)) as conn:
        conn.execute("DROP INDEX pages_pixels")
        conn.execute("ALTER TABLE pages DROP COLUMN pixels")
        conn.commit()
