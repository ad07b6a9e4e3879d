"""What every dataset format shares: the :class:`LabelledImage` value and small file helpers.

Pure files, no SQLite. Writers place each image under ``<out_dir>/images/`` (writing ``pixels``
when given, copying ``path`` otherwise) and write their label files atomically, so a crash
never leaves a half-written annotation file behind.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitpad import fsutil
from digitpad.errors import ImageError, ImportFormatError
from digitpad.types import CLASSES, Annotation, Box

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
# EXIF orientations 5..8 rotate by 90 degrees: the upright image has width and height swapped.


@dataclass(frozen=True)
class LabelledImage:
    """One image of a dataset and its boxes.

    ``path`` is where the image file is (reading) or where it comes from (writing).
    ``width``/``height`` are of the upright image, boxes are in its pixels (x1/y1 exclusive).
    Optional, for writers: ``pixels`` (RGB uint8 array) is encoded as PNG instead of copying
    ``path``; ``name`` is the file name to use inside the written dataset (default ``path.name``);
    ``read`` gives the image's bytes instead of reading ``path`` (the store's page read, checked
    against its hash): writers write or crop exactly those bytes, read once.
    """

    path: Path
    width: int
    height: int
    annotations: tuple[Annotation, ...]
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: str | None = None
    read: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def file_name(self) -> str:
        """The image's file name inside a written dataset."""
        return self.name or Path(self.path).name


def printable(name: str) -> str:
    """``name`` as text any terminal, dialog or SQLite accepts: bytes of a file name that are not
    UTF-8 (which Python keeps as lone surrogates) become ``\\xff`` escapes, as do surrogates from
    JSON ``\\ud800`` escapes. Valid text is returned unchanged."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name gave
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def check_label(label: str, where: str) -> str:
    """Return ``label`` if it is one of CLASSES, else raise ImportFormatError naming ``where``."""
    if label not in CLASSES:
        raise ImportFormatError(f"{where}: label {label!r} is not a digit 0-9 or {CLASSES[-1]!r}")
    return label


def check_unique_names(images: Iterable[LabelledImage]) -> list[LabelledImage]:
    """The images as a list; ValueError when two of them would get the same file name."""
    items = list(images)
    seen: set[str] = set()
    for item in items:
        if item.file_name in seen:
            raise ValueError(f"two images would both be written as {item.file_name!r}")
        seen.add(item.file_name)
    return items


def place_image(item: LabelledImage, images_dir: Path) -> Path:
    """Put ``item``'s image at ``images_dir/<file_name>`` and return that path.

    Writes ``pixels`` as PNG when given; otherwise the bytes ``read`` gives when that is given;
    otherwise copies ``path`` unless it already is there.

    Raises:
        DigitpadError: ``read`` refuses (a store page missing or damaged).
        OSError: the image cannot be read or written.
    """
    dest = images_dir / item.file_name
    # An image is cheap to write again, so no fsync: the rename alone keeps it whole.
    if item.pixels is not None:
        fsutil.atomic_write_bytes(dest, png_bytes(item.pixels), sync=False, sync_dir=False)
        return dest
    if item.read is not None:
        fsutil.atomic_write_bytes(dest, item.read(), sync=False, sync_dir=False)
        return dest
    src = Path(item.path)
    if src.resolve() != dest.resolve():
        shutil.copyfile(src, dest)
    return dest


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`digitpad.fsutil.atomic_write_bytes`).

    Creates missing parent folders. Readers see the old file or the whole new one, never a torn
    file; the temporary file is removed on failure. The folder is not fsynced here: callers that
    write many files into one folder (the store's page files) batch that with
    :func:`digitpad.fsutil.fsync_dir`.

    Raises:
        OSError: the folder or file cannot be written.
    """
    fsutil.atomic_write_bytes(path, data, sync_dir=False, make_parents=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG encoding of an RGB uint8 array (same pixels, same bytes)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def image_size(path: Path, where: str) -> tuple[int, int]:
    """(width, height) of the upright image at ``path``, reading only its header.

    Raises:
        ImportFormatError: the file is missing or not an image, or it declares more than
            :data:`digitpad.imageio.MAX_PIXELS` pixels (a decompression bomb); the message
            names ``where``.
    """
    from digitpad.imageio import exif_orientation, open_image

    where, name = printable(where), printable(path.name)
    if not path.is_file():
        raise ImportFormatError(f"{where}: image file {name} not found")
    try:
        with open_image(path, name) as img:
            w, h = img.size
            orientation = exif_orientation(img)
    except ImageError as exc:
        raise ImportFormatError(f"{where}: {exc}") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def check_box_inside(box: Box, width: int, height: int, where: str) -> Box:
    """``box`` if it is non-empty and inside a ``width`` x ``height`` image, else an error."""
    if box.width <= 0 or box.height <= 0:
        raise ImportFormatError(f"{where}: empty box {box.as_tuple()}")
    if box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height:
        raise ImportFormatError(
            f"{where}: box {box.as_tuple()} is outside the {width}x{height} image"
        )
    return box


def is_image_file(path: Path) -> bool:
    """A visible file with an image suffix digitpad reads."""
    return (
        path.is_file() and not path.name.startswith(".") and (path.suffix.lower() in IMAGE_SUFFIXES)
    )
