"""Page images, kept once each as PNG files named by the SHA-256 of their PNG bytes.

Files, not blobs: ``<home>/corrections/pages/<sha256>.png``. Why files:

* the database stays small (100,000 boxes are a few MB), so stats, backups and WAL checkpoints
  stay fast and the app and a retrain process contend for less;
* pages are plain PNGs a person can open, and importing a PNG dataset copies files verbatim
  (decoded once to check them, never re-encoded: importing 10,000 boxes stays within seconds);
* durability is still airtight: a page file is written to a temporary name, fsynced, renamed into
  place, and its directory fsynced (:meth:`PageFiles.flush`) *before* the transaction that
  references it starts. A crash in between leaves an unreferenced file (harmless), never a row
  pointing at a missing or torn file. Files are never modified after the rename, and
  :meth:`PageFiles.load` re-hashes the bytes, so damage on disk is reported, never trained on.

The hash is of the stored PNG bytes: a page saved from the app is encoded once (the same pixels
give the same bytes, so saving a page twice stores it once); a PNG from a dataset is stored as
is; other formats (JPEG...) are decoded with :func:`digitpad.imageio.load_image` and stored as PNG.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from digitpad import fsutil
from digitpad.errors import ImageError, StoreError
from digitpad.formats.base import atomic_write_bytes, png_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lowercase hex digits: a page's address."""
    return hashlib.sha256(data).hexdigest()


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (deterministic for the same pixels)."""
    return png_bytes(rgb)


class PageFiles:
    """The content-addressed page folder. Call :meth:`flush` before committing rows to it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._unsynced_dir = False

    def path_for(self, page_hash: str) -> Path:
        """Where the page with ``page_hash`` lives (whether or not it exists)."""
        return self.root / f"{page_hash}.png"

    def put_array(self, rgb: np.ndarray) -> tuple[str, bool]:
        """Store an RGB uint8 page; return (hash, created). An existing page is not rewritten."""
        data = encode_png(rgb)
        page_hash = sha256_hex(data)
        return page_hash, self._put(page_hash, data)

    def put_file(self, path: Path) -> tuple[str, int, int, bool]:
        """Store the image file at ``path``; return (hash, upright width, height, created).

        A PNG is checked (chunk CRCs, complete stream) and stored byte for byte; any other format
        is decoded and stored as PNG.

        Raises:
            ImageError: the file is missing, unreadable or not a valid image.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
        if data.startswith(PNG_SIGNATURE):
            width, height = _check_png(data, path.name)
        else:
            from digitpad.imageio import load_image

            rgb = load_image(path)
            height, width = rgb.shape[:2]
            data = encode_png(rgb)
        page_hash = sha256_hex(data)
        return page_hash, width, height, self._put(page_hash, data)

    def read_bytes(self, page_hash: str) -> bytes:
        """The bytes of the page file with ``page_hash``, checked against it.

        Raises:
            StoreError: the file is missing, unreadable, or its bytes no longer match the hash.
        """
        path = self.path_for(page_hash)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"page {page_hash[:12]} is missing from {self.root}") from None
        except OSError as exc:
            raise StoreError(f"page {page_hash[:12]} cannot be read: {exc}") from None
        if sha256_hex(data) != page_hash:
            raise StoreError(
                f"page file {path.name} is damaged on disk (its bytes no longer match their hash)"
            )
        return data

    def load(self, page_hash: str) -> np.ndarray:
        """The RGB uint8 page with ``page_hash``.

        Raises:
            StoreError: the file is missing, unreadable, its bytes no longer match the hash, or
                they cannot be decoded.
        """
        from digitpad.imageio import decode_image

        data = self.read_bytes(page_hash)
        try:
            return decode_image(data, page_hash[:12])
        except ImageError as exc:
            raise StoreError(f"page {page_hash[:12]} cannot be decoded: {exc}") from None

    def flush(self) -> None:
        """Make every file added since the last flush durable (fsync of the folder)."""
        if self._unsynced_dir:
            fsutil.fsync_dir(self.root)
            self._unsynced_dir = False

    def discard(self, page_hash: str) -> None:
        """Remove a page file (only for files no committed row references)."""
        self.path_for(page_hash).unlink(missing_ok=True)

    def _put(self, page_hash: str, data: bytes) -> bool:
        dest = self.path_for(page_hash)
        if dest.is_file():
            return False
        atomic_write_bytes(dest, data)
        self._unsynced_dir = True
        return True


def _check_png(data: bytes, name: str) -> tuple[int, int]:
    """(upright width, height) of PNG bytes after checking every chunk's CRC, the end chunk,
    and that the pixels decode, so a damaged file is refused at import time, not when a
    retrain or an export reads it.

    Raises:
        ImageError: the bytes are no PNG digitpad can read, in one line naming ``name``.
    """
    from PIL import Image

    from digitpad.imageio import exif_orientation, open_image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            orientation = exif_orientation(img)  # eXIf comes before IDAT: no decode needed
            img.verify()
    except Exception as exc:  # PIL raises many types for a corrupt file
        raise ImageError(f"{name}: damaged PNG ({exc})") from None
    # verify() checks chunks, not what they hold: a PNG whose image data stops short passes it
    with open_image(io.BytesIO(data), name) as img:
        img.load()
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
