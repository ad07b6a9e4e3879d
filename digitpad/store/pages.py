"""Page images, kept once each as PNG files addressed by the SHA-256 of their pixels.

Files, not blobs: ``<home>/corrections/pages/<h[:2]>/<h>.png``. Why files:

* the database stays small (100,000 boxes are a few MB), so stats, backups and WAL checkpoints
  stay fast and the app and a retrain process contend for less;
* pages are plain PNGs a person can open, and an import of a PNG dataset copies files verbatim;
* durability is still airtight: a page file is written to a temporary name, fsynced, renamed into
  place and its directory fsynced *before* the transaction that references it commits. A crash
  between the two leaves an unreferenced file (harmless, never a row pointing at a missing or torn
  file). Files are never modified after the rename, and :meth:`PageFiles.load` re-hashes the
  pixels, so on-disk damage is reported, never silently trained on.

The hash is of the canonical pixels (``load_image`` output: RGB uint8), not of the file bytes, so
the same page is the same page whether it arrived as a PNG, a JPEG or from the drawing canvas.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np

from digitpad.errors import ImageError, StoreError


def pixel_hash(rgb: np.ndarray) -> str:
    """SHA-256 (hex) of an RGB uint8 page: its shape and its pixel bytes."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    digest = hashlib.sha256(f"{arr.shape[0]}x{arr.shape[1]}x{arr.shape[2]}\n".encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


class PageFiles:
    """The content-addressed page folder. Writes are atomic and durable before they return."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, page_hash: str) -> Path:
        """Where the page with ``page_hash`` lives (whether or not it exists)."""
        return self.root / page_hash[:2] / f"{page_hash}.png"

    def put_array(self, rgb: np.ndarray) -> tuple[str, bool]:
        """Store an RGB page; return (hash, created). Existing pages are not rewritten."""
        page_hash = pixel_hash(rgb)
        dest = self.path_for(page_hash)
        if dest.is_file():
            return page_hash, False
        self._write(dest, encode_png(rgb))
        return page_hash, True

    def put_file(self, path: Path) -> tuple[str, int, int, bool]:
        """Store the image file at ``path``; return (hash, width, height, created).

        A PNG is copied byte for byte (decoding it again gives the same pixels); any other
        format is decoded and stored as PNG.

        Raises:
            ImageError: the file cannot be read as an image.
        """
        from digitpad.imageio import load_image

        rgb = load_image(path)
        page_hash = pixel_hash(rgb)
        dest = self.path_for(page_hash)
        created = False
        if not dest.is_file():
            data = Path(path).read_bytes()
            is_png = data[:8] == b"\x89PNG\r\n\x1a\n"
            self._write(dest, data if is_png else encode_png(rgb))
            created = True
        return page_hash, rgb.shape[1], rgb.shape[0], created

    def load(self, page_hash: str) -> np.ndarray:
        """The RGB page with ``page_hash``.

        Raises:
            StoreError: the file is missing, unreadable, or its pixels no longer match the hash.
        """
        path = self.path_for(page_hash)
        if not path.is_file():
            raise StoreError(f"page {page_hash[:12]} is missing from {self.root}")
        from digitpad.imageio import load_image

        try:
            rgb = load_image(path)
        except ImageError as exc:
            raise StoreError(f"page {page_hash[:12]} cannot be read: {exc}") from None
        if pixel_hash(rgb) != page_hash:
            raise StoreError(f"page {page_hash[:12]} is damaged on disk (its pixels changed)")
        return rgb

    def discard(self, page_hash: str) -> None:
        """Remove a page file (only for files no committed row references)."""
        self.path_for(page_hash).unlink(missing_ok=True)

    def _write(self, dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
