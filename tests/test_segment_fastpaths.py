"""The segmenter's fast paths compute exactly what the plain numpy/OpenCV expressions do."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment.ink import _stretch_levels
from digitpad.segment.runs import open_if_any


def _stretch_reference(darkness: np.ndarray) -> tuple[float, float]:
    """The levels computed on the float array itself (the rule, without the histogram)."""
    step_y, step_x = max(1, darkness.shape[0] // 150), max(1, darkness.shape[1] // 150)
    flat = darkness[::step_y, ::step_x].ravel().astype(np.float32) * (1.0 / 255.0)
    med = float(np.median(flat))
    mad = float(np.median(np.abs(flat - med))) + 1e-3
    lo = min(0.25, max(0.06, med + 6.0 * mad))
    inky = flat[flat > lo + 0.05]
    if inky.size < 20:
        hi = 0.6
    else:
        p90, p999 = np.percentile(inky, [90, 99.9])
        hi = max(float(p90), 0.8 * float(p999))
    hi = float(np.clip(hi, lo + 0.12, 0.75))
    return lo * 255.0, hi * 255.0


def test_stretch_levels_from_histogram_equal_float_computation() -> None:
    rng = np.random.default_rng(5)
    for i in range(300):
        h, w = (int(v) for v in rng.integers(1, 320, 2))
        if i % 3 == 0:
            a = rng.integers(0, 256, (h, w), dtype=np.uint8)
        else:
            a = np.clip(rng.exponential(rng.uniform(1, 30), (h, w)), 0, 255).astype(np.uint8)
            a[rng.random((h, w)) < rng.uniform(0, 0.2)] = rng.integers(100, 256)
        assert _stretch_levels(a) == _stretch_reference(a)


def test_open_if_any_is_the_opening() -> None:
    rng = np.random.default_rng(6)
    hits = misses = 0
    for trial in range(120):
        h, w = (int(v) for v in rng.integers(1, 160, 2))
        m8 = (rng.random((h, w)) < rng.uniform(0.0, 0.3)).astype(np.uint8)
        for _ in range(int(rng.integers(0, 4))):  # runs of random length, some at the edges
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            n = int(rng.integers(1, 90))
            if trial % 2:
                m8[y, max(0, x - n) if rng.random() < 0.5 else x : x + n] = 1
            else:
                m8[y : y + n, x] = 1
        length = int(rng.choice([1, 2, 5, 24, 25, 40, 78]))
        for kernel in (np.ones((1, length), np.uint8), np.ones((length, 1), np.uint8)):
            want = cv2.morphologyEx(m8, cv2.MORPH_OPEN, kernel)
            got = open_if_any(m8, kernel)
            if want.any():
                hits += 1
                assert got is not None and np.array_equal(got, want)
            else:
                misses += 1
                assert got is None
    assert hits > 20 and misses > 20


def test_preprocess_of_uint8_crop_equals_its_float_ink() -> None:
    from digitpad.preprocess import U8_INK_MIN, as_ink, preprocess_crop

    assert as_ink(np.array([U8_INK_MIN - 1, U8_INK_MIN], np.uint8)).tolist()[0] <= 0.15
    rng = np.random.default_rng(7)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(0, 90, 2))
        crop = (rng.random((h, w)) ** rng.uniform(1, 8) * 255).astype(np.uint8)
        crop[rng.random((h, w)) < 0.5] = U8_INK_MIN - 1  # paper just below the ink level
        got = preprocess_crop(crop)
        assert got.dtype == np.float32 and np.array_equal(got, preprocess_crop(as_ink(crop)))


def test_channel_extreme_is_min_or_max_of_split_channels() -> None:
    from digitpad.segment.ink import channel_extreme

    rng = np.random.default_rng(8)
    for h, w in ((1, 1), (1, 7), (5, 1), (37, 53), (160, 940)):
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        r, g, b = cv2.split(rgb)
        assert np.array_equal(channel_extreme(rgb, lightest=False), cv2.min(cv2.min(r, g), b))
        assert np.array_equal(channel_extreme(rgb, lightest=True), cv2.max(cv2.max(r, g), b))
        view = rgb[:, ::-1]  # not contiguous
        assert np.array_equal(channel_extreme(view, lightest=False), view.min(axis=2))


def test_small_percentiles_equal_numpy() -> None:
    from digitpad.segment.stats import percentile_of_counts, percentile_sorted

    rng = np.random.default_rng(8)
    qs = (0.0, 50.0, 60.0, 90.0, 95.0, 99.9, 100.0)
    for _ in range(300):
        n = int(rng.integers(1, 300))
        heights = np.sort(rng.integers(0, 300, n)).astype(np.float32)
        rows = rng.integers(0, 256, (16, n), dtype=np.uint8)
        if rng.random() < 0.5:  # paper: a narrow band of bright levels, many ties
            rows = np.clip(rows // 8 + 200, 0, 255).astype(np.uint8)
        values = np.sort(rng.random(n)).astype(np.float32)
        counts = rng.integers(0, 5, n)
        counts[int(rng.integers(n))] += 1  # never all zero
        for q in qs:
            assert percentile_sorted(heights, q) == np.percentile(heights, q)
            got = percentile_sorted(np.sort(rows, axis=1), q)
            assert np.array_equal(got, np.percentile(rows, q, axis=1))
        want = np.percentile(np.repeat(values, counts), list(qs))
        assert percentile_of_counts(values, counts, qs) == want.tolist()
