"""The regression set's cache is only a saving: damaged, it is rebuilt; unwritable, the retrain
goes on; leftovers of older generators and killed writes are swept (helper-51)."""

from __future__ import annotations

import errno
import os
import time

import numpy as np

from digitpad.retrain import data
from digitpad.retrain.data import regression_set


def _events(sink: list) -> data.ProgressSink:
    return sink.append


def test_a_damaged_cache_is_rebuilt(tmp_path):
    X, y = regression_set(tmp_path, pages=1)
    (cache,) = tmp_path.glob("regression-*.npz")
    for damage in (cache.read_bytes()[: cache.stat().st_size // 2], b""):
        cache.write_bytes(damage)  # a copy cut short, an empty file: BadZipFile, EOFError
        X2, y2 = regression_set(tmp_path, pages=1)
        assert np.array_equal(X, X2) and np.array_equal(y, y2)
        assert np.array_equal(regression_set(tmp_path, pages=1)[1], y)  # and cached again


def test_a_cache_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data, "atomic_write_bytes", full)
    events: list = []
    X, y = regression_set(tmp_path, pages=1, progress=_events(events))
    assert len(X) == len(y) > 0
    warnings = [e.message for e in events if e.phase == "warning"]
    assert warnings == ["cannot cache the regression set (No space left on device)"]


def test_leftovers_of_older_generators_and_killed_writes_are_swept(tmp_path):
    olders = [tmp_path / f"regression-s7-p1-{i:016x}.npz" for i in range(4)]
    other_size = tmp_path / "regression-s7-p2-0123456789abcdef.npz"
    killed = tmp_path / ".regression-s7-p1-0123456789abcdef.npz.a1b2c3.tmp"
    writing = tmp_path / ".regression-s7-p1-fedcba9876543210.npz.d4e5f6.tmp"
    for f in (*olders, other_size, killed, writing):
        f.write_bytes(b"x")
    for age, f in enumerate(olders):  # the first is the newest
        os.utime(f, (time.time() - 60 * age, time.time() - 60 * age))
    hour_ago = time.time() - 3700
    os.utime(killed, (hour_ago, hour_ago))
    regression_set(tmp_path, seed=7, pages=1)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert other_size.name in left and writing.name in left  # another set; a write under way
    assert killed.name not in left
    # the two newest of another generator stay (another digitpad sharing the home)
    assert [f.name in left for f in olders] == [True, True, False, False]
    assert len([n for n in left if n.startswith("regression-s7-p1-")]) == 3
