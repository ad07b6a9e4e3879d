"""The one preprocessing path, shared by training and inference.

A crop of *ink* (float in [0, 1] or uint8 in [0, 255], 1/255 = ink, 0 = paper) becomes a
``SIZE x SIZE`` float32 image: the ink's tight box is scaled to fit ``FIT x FIT`` keeping its
aspect ratio, centred, and its contrast stretched so faint pencil and black marker look alike.
Training, the realism benchmark, the validation sets and the live recogniser all call these
functions; a change here changes all of them together, which is the point.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from digitpad.types import CROP_SIZE, Box

SIZE = CROP_SIZE
FIT = 20
INK_THRESHOLD = 0.15  # below this a pixel is paper noise, not ink


def as_ink(crop: np.ndarray) -> np.ndarray:
    """``crop`` as float32 ink in [0, 1] (uint8 is divided by 255; floats are clipped)."""
    if crop.dtype == np.uint8:
        return crop.astype(np.float32) * (1.0 / 255.0)
    return np.clip(crop.astype(np.float32, copy=False), 0.0, 1.0)


# the least uint8 level whose float ink (as ``as_ink`` computes it) is above INK_THRESHOLD
U8_INK_MIN = int(np.argmax(as_ink(np.arange(256, dtype=np.uint8)) > INK_THRESHOLD))


def preprocess_crop(crop: np.ndarray) -> np.ndarray:
    """Normalise one ink crop (H, W) to a (SIZE, SIZE) float32 model input.

    An empty or all-paper crop gives all zeros. Never raises for a 2-D array.
    """
    if crop.dtype == np.uint8:
        # the live path: find the ink's box on the 8-bit crop and convert only that to float
        # (``U8_INK_MIN`` is exactly where the float ink passes INK_THRESHOLD: same box)
        if crop.ndim != 2 or crop.size == 0:
            return np.zeros((SIZE, SIZE), np.float32)
        # the bounding rectangle of the ink pixels: the first/last inky row and column
        x, y, w, h = cv2.boundingRect((crop >= U8_INK_MIN).view(np.uint8))
        if w == 0:
            return np.zeros((SIZE, SIZE), np.float32)
        return _fit(as_ink(crop[y : y + h, x : x + w]))
    ink = as_ink(crop)
    if ink.ndim != 2 or ink.size == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    mask = ink > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    cols = np.flatnonzero(mask.any(axis=0))
    return _fit(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def _fit(tight: np.ndarray) -> np.ndarray:
    """The tight float32 ink box scaled into the centre of a (SIZE, SIZE) image."""
    h, w = tight.shape
    scale = FIT / max(h, w)
    nh = max(1, min(FIT, round(h * scale)))
    nw = max(1, min(FIT, round(w * scale)))
    # INTER_AREA keeps thin strokes of big digits visible when shrinking; LINEAR is smoother up.
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    small = cv2.resize(tight, (nw, nh), interpolation=interp)
    peak = float(small.max())
    if peak > 1e-6:
        small *= 1.0 / peak
    out = np.zeros((SIZE, SIZE), np.float32)
    y = (SIZE - nh) // 2
    x = (SIZE - nw) // 2
    out[y : y + nh, x : x + nw] = small
    return out


def preprocess_boxes(ink: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Crop every box out of a page's ink map and preprocess it: (N, 1, SIZE, SIZE) float32."""
    out = np.zeros((len(boxes), 1, SIZE, SIZE), np.float32)
    for i, b in enumerate(boxes):
        out[i, 0] = preprocess_crop(ink[b.y0 : b.y1, b.x0 : b.x1])
    return out


def zoomed(batch: np.ndarray, factor: float) -> np.ndarray:
    """Model inputs ``batch`` (N, 1, SIZE, SIZE) with every crop drawn ``factor`` times as large
    about the centre (bilinear; paper where nothing maps). Training showed the model crops at
    0.88-1.12 of the fitted size (its augmentation), so a zoom in that range is another fair
    view of the same ink, for reading an unsure crop again. Returns a new float32 array.
    """
    r = _zoom_matrix(float(factor))
    # zooming is separable: rows, then columns, as two small matrix products per crop
    return np.ascontiguousarray(r @ batch @ r.T, dtype=np.float32)


@lru_cache(maxsize=8)
def _zoom_matrix(factor: float) -> np.ndarray:
    """(SIZE, SIZE) weights that resample one axis ``factor`` times as large about its centre."""
    centre = (SIZE - 1) / 2.0
    src = centre + (np.arange(SIZE) - centre) / factor
    lo = np.floor(src).astype(np.int64)
    frac = (src - lo).astype(np.float32)
    m = np.zeros((SIZE, SIZE), np.float32)
    for i in range(SIZE):
        for j, w in ((lo[i], 1.0 - frac[i]), (lo[i] + 1, frac[i])):
            if 0 <= j < SIZE:
                m[i, j] += w
    m.setflags(write=False)
    return m
