"""Loading page images from files, PIL images or arrays into one canonical form.

Every page enters digitpad as an RGB ``uint8`` array of shape (H, W, 3), upright (EXIF
orientation applied), with transparency composited onto white. 16-bit, palette, CMYK, greyscale,
bilevel and float images are all converted. Decompression bombs are refused.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitpad.errors import ImageError

# A 12000x9000 scan (108 MP) is legitimate; a 2.5-gigapixel PNG of 40 kB is an attack.
MAX_PIXELS = 200_000_000
# PIL's own guard, aligned with ours: it warns above this and raises above twice this.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
EXIF_ORIENTATION = 0x0112  # the EXIF tag of the orientation
_OPENING = threading.RLock()  # held while PIL's bomb warning is made an error (see open_image)
# a float image may overshoot 1 a little (a cubic resize rings): up to this it is still [0, 1]
FLOAT_TOP = 2.0


def load_image(source: Any) -> np.ndarray:
    """Return ``source`` as an upright RGB uint8 array of shape (H, W, 3).

    ``source`` may be a path (str or PathLike), a PIL image, or a numpy array of shape (H, W),
    (H, W, 1), (H, W, 3) or (H, W, 4) of booleans, integers or floats. Levels are judged by
    the values, as for 16-bit and float files: floats up to ``FLOAT_TOP`` are in [0, 1] (a
    resize overshoots 1 a little), integers 0 and 1 only are a bilevel mask (uint8 too, and
    an 8-bit file's pixels too), values up to 255 are 8-bit, up to 65535 16-bit, anything
    higher is scaled by its maximum; an alpha channel is levelled apart. A broken EXIF block
    is ignored, as if the image had none.

    Raises:
        ImageError: the file is missing, unreadable, not an image, empty or too large, or the
            object is no image (another type, a closed PIL image, an array of text).
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(np.asarray(source))  # a subclass (np.matrix) as a plain array
    if isinstance(source, Image.Image):
        check_size("image", source.size)  # before a lazy image's pixels are decoded
        _load_pixels(source)
        try:
            return _pil_to_rgb(_upright(source))
        except ValueError as exc:  # a mode PIL cannot convert
            raise ImageError(f"cannot read the image ({_one_line(exc)})") from None
    if isinstance(source, (str, os.PathLike)):
        return _load_path(Path(os.fsdecode(source)))  # a PathLike may give bytes
    raise ImageError(f"cannot read an image from a {type(source).__name__}")


def _load_pixels(img: Image.Image) -> None:
    """Decode a lazy PIL image's pixels now, so that a damaged or closed file is an ImageError
    here rather than PIL's own error later (a file closed by a ``with`` block fails on an
    assert in PIL, a truncated one with an OSError).

    Raises:
        ImageError: the pixels cannot be read.
    """
    try:
        img.load()
    except (AssertionError, AttributeError):  # PIL's way of finding no file to read from
        raise ImageError("cannot read the image (its file was closed first)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"cannot read the image ({_one_line(exc)})") from None


def _upright(img: Image.Image) -> Image.Image:
    """``img`` turned upright by its EXIF orientation; as it is when its EXIF is unreadable."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:
        # PIL's EXIF parser raises struct.error, SyntaxError, KeyError, TypeError and more on
        # a broken block: the metadata must never cost the pixels
        return img


@contextlib.contextmanager
def open_image(source: Path | IO[bytes], name: str) -> Iterator[Image.Image]:
    """PIL's ``Image.open`` of a file or a binary stream, refusing what :func:`load_image`
    refuses: more than ``MAX_PIXELS`` pixels (PIL's own bomb warning made an error), a file
    that is no image, a damaged one (also when the body of the ``with`` reads its pixels).

    Raises:
        ImageError: one of those, in one line naming ``name``.
    """
    try:
        # catch_warnings changes the whole process's filters, and import stores pages on
        # several threads: one at a time in here (import decodes its PNGs, whose size it
        # checked first, with decode_sized instead)
        with _OPENING, warnings.catch_warnings():
            # PIL warns (not raises) between MAX_IMAGE_PIXELS and twice that; treat both as bombs.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                check_size(name, img.size)
                yield img
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: refused, too many pixels (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image digitpad can read") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: cannot read image ({_one_line(exc)})") from None


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Image file bytes as :func:`load_image` reads a file: upright RGB uint8 (H, W, 3).

    Raises:
        ImageError: the bytes are not an image digitpad can read (the message names ``name``).
    """
    with open_image(io.BytesIO(data), name) as img:
        return _decoded(img)


def decode_sized(data: bytes, name: str) -> np.ndarray:
    """Image file bytes whose size :func:`check_size` has already passed, as
    :func:`load_image` reads a file, without :func:`open_image`'s process-wide lock: under
    ``MAX_PIXELS`` PIL has no bomb to warn of, so several threads decode at once (an import's
    pages).

    Raises:
        ImageError: the bytes cannot be decoded, in one line naming ``name``.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            check_size(name, img.size)
            return _decoded(img)
    except ImageError:
        raise
    except Exception as exc:  # PIL raises many types for a damaged file
        raise ImageError(f"{name}: cannot read image ({_one_line(exc)})") from None


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation (1-8) of an open image without decoding its pixels (PIL's PNG
    ``getexif()`` decodes the whole image); 1 when it has none or its EXIF block is broken."""
    try:
        if img.format == "PNG":
            raw = img.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = img.getexif()
        value = int(exif.get(EXIF_ORIENTATION, 1))
    except Exception:
        # PIL's EXIF parser raises struct.error, SyntaxError, KeyError, TypeError and more on
        # a broken block: the metadata must never cost the pixels
        return 1
    return value if 1 <= value <= 8 else 1


def _load_path(path: Path) -> np.ndarray:
    name = path.name or str(path)  # "." or "/" have no name
    try:
        if not path.exists():
            raise ImageError(f"{name}: no such file")
        if path.is_dir():
            raise ImageError(f"{name}: is a folder, not an image")
        if not path.is_file():  # a pipe would block the read, a device never ends
            raise ImageError(f"{name}: not a regular file")
    except OSError as exc:  # a name too long, a folder on the way that cannot be entered
        raise ImageError(f"{name}: cannot open ({_one_line(exc)})") from None
    with open_image(path, name) as img:
        return _decoded(img)


def check_size(name: str, size: tuple[int, int]) -> None:
    """Refuse an image of ``size`` (width, height) that is empty or over ``MAX_PIXELS``.

    Raises:
        ImageError: in one line naming ``name``.
    """
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"{name}: the image is empty")
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"{name}: refused, {w}x{h} is more than {MAX_PIXELS // 1_000_000} megapixels"
        )


def _decoded(img: Image.Image) -> np.ndarray:
    """The pixels of an opened image file, decoded, upright, as RGB uint8."""
    img.load()
    return _pil_to_rgb(_upright(img))


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    check_size("image", img.size)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        grey = _to_u8(np.asarray(img))
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "La":  # grey premultiplied by its alpha, which PIL cannot convert
        la = np.asarray(img).astype(np.int32)
        return _array_to_rgb(np.clip(la[:, :, 0] + 255 - la[:, :, 1], 0, 255).astype(np.uint8))
    if mode in ("P", "LA", "PA", "RGBa") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    rgb = np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))
    # 0 and 1 only: a mask, as the same pixels given as an array read (see _to_u8), so a page
    # read from its file and from its array is one page (the store knows pages by pixels)
    return rgb * np.uint8(255) if _is_mask_u8(rgb) else rgb


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageError(f"expected an (H, W) or (H, W, 3|4) array, got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected 1, 3 or 4 channels, got {arr.shape[2]}")
    check_size("array", (arr.shape[1], arr.shape[0]))
    if arr.ndim == 3 and arr.shape[2] == 4:  # alpha is levelled apart: 8-bit alpha on 16-bit ink
        a = np.concatenate([_to_u8(arr[:, :, :3]), _to_u8(arr[:, :, 3:])], axis=2)
    else:
        a = _to_u8(arr)
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 1:
        return np.repeat(a, 3, axis=2)
    if a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        rgb = a[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _is_mask_u8(a: np.ndarray) -> bool:
    """Whether the uint8 array ``a`` holds only 0 and 1 (a mask, not a nearly black page). A
    sample of a few hundred values settles it for any real page, which holds higher ones,
    before the whole array is looked at."""
    if a.size == 0 or a.flat[:: max(1, a.size // 512)].max() > 1:
        return False
    return bool(a.max() <= 1)


def _to_u8(a: np.ndarray) -> np.ndarray:
    """Levels of any numeric array as uint8, judged by its values (see :func:`load_image`):
    the same 8-bit levels read the same whether they came as uint8, uint16, int32 or float.
    NaN is ink (0), +inf paper (255).

    Raises:
        ImageError: the array holds no numbers (text, dates, records, complex numbers).
    """
    if a.dtype == np.uint8:
        # 0 and 1 only: a mask, as ``(page > t).astype(np.uint8)`` makes, not a black page
        return a * np.uint8(255) if _is_mask_u8(a) else a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    floating = np.issubdtype(a.dtype, np.floating)
    if not (floating or np.issubdtype(a.dtype, np.integer)):
        raise ImageError(f"cannot read an image from an array of {a.dtype}")
    # one float32 copy, worked on in place: a 100-megapixel scan needs 400 MB, not gigabytes
    with np.errstate(over="ignore"):  # float64 past float32's range is +inf: paper
        f = a.astype(np.float32)
    paper = np.isposinf(f) if floating else None
    np.nan_to_num(f, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(f.max())
    if floating and peak <= FLOAT_TOP:
        top = 1.0
    else:  # a mask of 0 and 1; 8-bit; 16-bit; anything else by its own maximum
        top = next((t for t in (1.0, 255.0, 65535.0) if peak <= t), peak)
    f *= 255.0 / top
    f += 0.5
    if paper is not None:
        f[paper] = 255.0
    return np.clip(f, 0, 255, out=f).astype(np.uint8)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Luminance (uint8, H x W) of an RGB uint8 page."""
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
