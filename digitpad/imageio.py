"""Loading page images from files, PIL images or arrays into one canonical form.

Every page enters digitpad as an RGB ``uint8`` array of shape (H, W, 3), upright (EXIF
orientation applied), with transparency composited onto white. 16-bit, palette, CMYK, greyscale,
bilevel and float images are all converted. Decompression bombs are refused.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitpad.errors import ImageError

# A 12000x9000 scan (108 MP) is legitimate; a 2.5-gigapixel PNG of 40 kB is an attack.
MAX_PIXELS = 200_000_000
# PIL's own guard, aligned with ours: it warns above this and raises above twice this.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def load_image(source: Any) -> np.ndarray:
    """Return ``source`` as an upright RGB uint8 array of shape (H, W, 3).

    ``source`` may be a path (str or PathLike), a PIL image, or a numpy array of shape (H, W),
    (H, W, 3) or (H, W, 4) in any integer or float dtype (floats are taken to be in [0, 1]).

    Raises:
        ImageError: the file is missing, unreadable, not an image, empty or too large.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return _pil_to_rgb(ImageOps.exif_transpose(source) or source)
    if isinstance(source, (str, os.PathLike)):
        return _load_path(Path(source))
    raise ImageError(f"cannot read an image from a {type(source).__name__}")


def _load_path(path: Path) -> np.ndarray:
    name = path.name
    if not path.exists():
        raise ImageError(f"{name}: no such file")
    if path.is_dir():
        raise ImageError(f"{name}: is a folder, not an image")
    try:
        with warnings.catch_warnings():
            # PIL warns (not raises) between MAX_IMAGE_PIXELS and twice that; treat both as bombs.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                _check_size(name, img.size)
                img.load()
                upright = ImageOps.exif_transpose(img) or img
                return _pil_to_rgb(upright)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: refused, too many pixels (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image digitpad can read") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: cannot read image ({_one_line(exc)})") from None


def _check_size(name: str, size: tuple[int, int]) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"{name}: the image is empty")
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"{name}: refused, {w}x{h} is more than {MAX_PIXELS // 1_000_000} megapixels"
        )


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    _check_size("image", img.size)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        # Files written by real 16-bit scanners use the full range; 8-bit data widened to 16
        # bits by other tools does not. Judge by the values, not the mode.
        peak = float(arr.max()) if arr.size else 0.0
        hi = 65535.0 if peak > 255 else (1.0 if mode == "F" and peak <= 1.0 else 255.0)
        grey = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("P", "LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    rgb = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageError(f"expected an (H, W) or (H, W, 3|4) array, got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected 1, 3 or 4 channels, got {arr.shape[2]}")
    _check_size("array", (arr.shape[1], arr.shape[0]))
    a = arr
    if a.dtype == np.uint8:
        pass
    elif np.issubdtype(a.dtype, np.floating):
        a = np.clip(np.nan_to_num(a) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif a.dtype == np.uint16:
        a = (a.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    else:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 1:
        return np.repeat(a, 3, axis=2)
    if a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        rgb = a[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Luminance (uint8, H x W) of an RGB uint8 page."""
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
