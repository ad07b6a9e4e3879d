"""Paper backgrounds, ink colours, ink compositing and scan/photo degradations.

Everything full-resolution is done with a handful of vectorised or OpenCV calls: smooth
variation (illumination, shadows, texture) is computed on a grid 16x coarser and resized up,
fine grain comes from a cached noise field viewed at a random offset. That keeps a 1024x768
page to a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# RGB. Papers people write on and scanners/phones see.
PAPERS: dict[str, tuple[int, int, int]] = {
    "white": (250, 250, 249),
    "off-white": (244, 240, 229),
    "grey": (212, 212, 208),
    "beige": (234, 220, 192),
}
INKS: dict[str, tuple[int, int, int]] = {
    "black": (22, 22, 28),
    "blue": (28, 48, 150),
    "red": (178, 28, 34),
    "pencil": (88, 88, 94),
}
RULINGS: tuple[str, ...] = ("plain", "ruled", "squared")
_COARSE = 16  # smooth fields are computed this many times coarser than the page
_GRAIN_ROWS, _GRAIN_COLS = 1100, 3300  # enough for 1024x768 RGB pages without tiling


@dataclass(frozen=True)
class PaperSpec:
    """The random choices behind one page's paper and ink, kept in SynthPage.meta."""

    paper: str
    ink: str
    ruling: str
    shadow: bool
    crease: bool


def sample_spec(rng: np.random.Generator) -> PaperSpec:
    """Random paper, ink colour, ruling and blemishes for one page."""
    paper = ("white", "off-white", "grey", "beige")[int(rng.choice(4, p=[0.4, 0.25, 0.15, 0.2]))]
    ink = ("black", "blue", "red", "pencil")[int(rng.choice(4, p=[0.4, 0.35, 0.1, 0.15]))]
    ruling = RULINGS[int(rng.choice(3, p=[0.45, 0.3, 0.25]))]
    return PaperSpec(paper, ink, ruling, bool(rng.random() < 0.3), bool(rng.random() < 0.2))


def make_paper(
    spec: PaperSpec, width: int, height: int, angle: float, rng: np.random.Generator
) -> np.ndarray:
    """An RGB uint8 (height, width, 3) sheet: colour, lighting, texture, ruling, creases.

    ``angle`` (radians) is the page's slight rotation; ruling follows it.
    """
    lw, lh = width // _COARSE + 2, height // _COARSE + 2
    shade = _shading(spec, lw, lh, rng)
    base = np.array(PAPERS[spec.paper], np.float32) + rng.normal(0.0, 3.0, 3).astype(np.float32)
    coarse = np.clip(shade[..., None] * base, 0, 255).astype(np.uint8)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    add_grain(img, rng, strength=float(rng.uniform(1.5, 5.0)))
    if spec.ruling != "plain":
        _ruling(img, spec.ruling, angle, rng)
    if spec.crease:
        _crease(img, rng)
    return img


def _shading(spec: PaperSpec, lw: int, lh: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative lighting on the coarse grid: gradient, vignette, shadow, blotches."""
    y = np.linspace(-0.5, 0.5, lh, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, lw, dtype=np.float32)[None, :]
    gx, gy = rng.normal(0.0, 0.08, 2)
    shade = 1.0 + gx * x + gy * y - rng.uniform(0.0, 0.15) * (x * x + y * y)
    blotch = cv2.resize(
        rng.normal(0.0, 0.02, (4, 5)).astype(np.float32), (lw, lh), interpolation=cv2.INTER_CUBIC
    )
    shade = shade + blotch
    if spec.shadow:
        # A soft-edged shadow across one side, like a hand or phone over the page.
        a = rng.uniform(0, 2 * np.pi)
        d = np.cos(a) * x + np.sin(a) * y - rng.uniform(0.1, 0.45)
        shade = shade * (1.0 - rng.uniform(0.15, 0.4) / (1.0 + np.exp(-d / 0.04)))
    return shade.astype(np.float32)


@lru_cache(maxsize=1)
def _grain_field() -> np.ndarray:
    """A fixed uint8 noise field centred on 128 (sd 16), generated once; pages view it at
    random offsets, one value per pixel and channel."""
    g = np.random.default_rng(20240607).normal(128.0, 16.0, (_GRAIN_ROWS, _GRAIN_COLS))
    return np.clip(g, 0, 255).astype(np.uint8)


@lru_cache(maxsize=2)
def _tiled_field(rows: int, cols: int) -> np.ndarray:
    """The grain field repeated for pages bigger than it (photos), kept for the next page."""
    return np.tile(_grain_field(), (rows, cols))


def add_grain(img: np.ndarray, rng: np.random.Generator, strength: float) -> None:
    """Add fine per-pixel noise with a standard deviation of ``strength`` grey levels to the
    uint8 ``img`` in place (one saturating OpenCV call on a view of the cached field)."""
    h = img.shape[0]
    flat = img.reshape(h, -1)  # (H, W * channels): every channel gets its own noise
    field = _grain_field()
    if h > field.shape[0] or flat.shape[1] > field.shape[1]:
        field = _tiled_field(-(-h // field.shape[0]), -(-flat.shape[1] // field.shape[1]))
    oy = int(rng.integers(0, field.shape[0] - h + 1))
    ox = int(rng.integers(0, field.shape[1] - flat.shape[1] + 1))
    noise = field[oy : oy + h, ox : ox + flat.shape[1]]
    k = strength / 16.0
    cv2.addWeighted(flat, 1.0, noise, k, -128.0 * k, dst=flat)


def _ruling(img: np.ndarray, ruling: str, angle: float, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    step = int(rng.integers(22, 44))
    colour = (150, 175, 215) if rng.random() < 0.6 else (170, 170, 170)
    tan = np.tan(angle)
    off = int(rng.integers(0, step))
    for y in range(off, h + int(abs(tan) * w) + step, step):
        y0 = y - int(max(0.0, tan) * w)
        cv2.line(img, (0, y0), (w, round(y0 + tan * w)), colour, 1, cv2.LINE_AA)
    if ruling == "squared":
        for x in range(off, w + int(abs(tan) * h) + step, step):
            x0 = x - int(max(0.0, -tan) * h)
            cv2.line(img, (x0, 0), (round(x0 - tan * h), h), colour, 1, cv2.LINE_AA)
    elif rng.random() < 0.4:
        x = int(rng.integers(40, max(41, w // 6)))  # the red margin line of a school notebook
        cv2.line(img, (x, 0), (round(x - tan * h), h), (220, 120, 120), 1, cv2.LINE_AA)


def _crease(img: np.ndarray, rng: np.random.Generator) -> None:
    """A fold: a darker line with a lighter one beside it, across the page."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        p0, p1 = (0, int(rng.integers(h))), (w, int(rng.integers(h)))
        d = (0, 1)
    else:
        p0, p1 = (int(rng.integers(w)), 0), (int(rng.integers(w)), h)
        d = (1, 0)
    base = img[h // 2, w // 2].astype(np.float32)
    dark = tuple(int(c) for c in base * 0.86)
    light = tuple(int(min(255, c * 1.04)) for c in base)
    cv2.line(img, p0, p1, dark, 1, cv2.LINE_AA)
    cv2.line(img, (p0[0] + d[0], p0[1] + d[1]), (p1[0] + d[0], p1[1] + d[1]), light, 1)


def ink_colour(name: str, rng: np.random.Generator) -> np.ndarray:
    """The RGB of ink ``name`` with a little variation, as float32 in [0, 1]."""
    c = np.array(INKS[name], np.float32) + rng.normal(0.0, 8.0, 3).astype(np.float32)
    return np.clip(c, 0, 255) / 255.0


def composite(img: np.ndarray, alpha: np.ndarray, x: int, y: int, colour: np.ndarray) -> None:
    """Lay ink ``alpha`` (float [0, 1]) with its top-left at (x, y) onto ``img`` in place.

    Multiply blending: ink darkens what is under it, so paper texture and ruling show through
    pencil and overlapping strokes get darker, as on paper. The crop must lie inside the image.
    """
    h, w = alpha.shape
    region = img[y : y + h, x : x + w].astype(np.float32)
    factor = 1.0 - alpha[..., None] * (1.0 - colour[None, None, :])
    img[y : y + h, x : x + w] = (region * factor + 0.5).astype(np.uint8)


def degrade(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Scan/photo artefacts: blur, sensor noise, JPEG. Returns the image and what was done."""
    done = []
    if rng.random() < 0.35:
        sigma = float(rng.uniform(0.4, 1.1))
        img = cv2.GaussianBlur(img, (0, 0), sigma)
        done.append(f"blur{sigma:.1f}")
    if rng.random() < 0.4:
        add_grain(img, rng, strength=float(rng.uniform(2.0, 7.0)))
        done.append("noise")
    if rng.random() < 0.3:
        q = int(rng.integers(35, 92))
        ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
            done.append(f"jpeg{q}")
    return img, done
