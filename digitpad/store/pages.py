"""Page images, kept once each as PNG files named by the SHA-256 of their PNG bytes.

Files, not blobs: ``<home>/corrections/pages/<sha256>.png``. Why files:

* the database stays small (100,000 boxes are a few MB), so stats, backups and WAL checkpoints
  stay fast and the app and a retrain process contend for less;
* pages are plain PNGs a person can open, and importing a PNG dataset copies files verbatim
  (each decoded once, for its pixel hash and to check that it is whole, never re-encoded:
  importing 10,000 boxes stays within seconds);
* durability is still airtight: a page file is written to a temporary name, fsynced, renamed into
  place, and its directory fsynced (:meth:`PageFiles.flush`) *before* the transaction that
  references it starts. A crash in between leaves an unreferenced file (harmless), never a row
  pointing at a missing or torn file. Files are never modified after the rename, and
  :meth:`PageFiles.load` re-hashes the bytes, so damage on disk is reported, never trained on;
  a damaged file is replaced whole (the same way) when its page is stored again;
* a failed import removes the files it made, and so does one whose pages the store held in
  other bytes already, but never one that another writer (the app, a second import) found
  there and is about to name in its rows (``WRITERS_LOCK``).

The hash is of the stored PNG bytes: a page saved from the app is encoded once (the same pixels
give the same bytes, so saving a page twice stores it once); a PNG from a dataset is stored as
is; other formats (JPEG...) are decoded with :func:`digitpad.imageio.load_image` and stored as PNG.
Which *page* a file holds is told by :func:`pixel_hash` of its upright pixels, not by its bytes:
two encoders (OpenCV's, PIL's) or an EXIF rotation give one page other bytes, and the store
keeps one file per page (schema 4's ``pages.pixels``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad import fsutil
from digitpad.errors import ImageError, StoreError
from digitpad.formats.base import atomic_write_bytes, png_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Held shared by every writer from its first page file to its commit, and exclusively by a
# failed import removing the files it made: a file another writer is about to name in its
# rows (it found the file there, so did not write it) must not be removed under it.
# Beside the folder, not in it: the folder holds page files only.
WRITERS_LOCK = ".pages.lock"


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lowercase hex digits: a page's address."""
    return hashlib.sha256(data).hexdigest()


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (deterministic for the same pixels)."""
    return png_bytes(rgb)


def pixel_hash(rgb: np.ndarray) -> str:
    """The SHA-256 of an upright RGB uint8 page's shape and pixels, as 64 lowercase hex digits:
    which page it is, whatever bytes its file has."""
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
    digest = hashlib.sha256("x".join(map(str, pixels.shape)).encode() + b":")
    digest.update(pixels)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredFile:
    """What :meth:`PageFiles.put_file` stored: the file's hash, its page's pixel hash, the
    upright size, and whether the file was made by this call."""

    page_hash: str
    pixels: str
    width: int
    height: int
    created: bool


class PageFiles:
    """The content-addressed page folder. Call :meth:`flush` before committing rows to it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._unsynced_dir = False

    def path_for(self, page_hash: str) -> Path:
        """Where the page with ``page_hash`` lives (whether or not it exists)."""
        return self.root / f"{page_hash}.png"

    def put_array(self, rgb: np.ndarray) -> tuple[str, bool]:
        """Store an RGB uint8 page; return (hash, created). An existing page file is not
        rewritten unless damaged on disk, and ``created`` is False for it either way.

        Raises:
            OSError: the file cannot be written.
        """
        data = encode_png(rgb)
        page_hash = sha256_hex(data)
        return page_hash, self._put(page_hash, data)

    def put_file(self, path: Path) -> StoredFile:
        """Store the image file at ``path`` and say what was stored.

        A PNG is checked (chunk CRCs, complete stream), decoded for its pixel hash, and stored
        byte for byte; any other format is decoded and stored as PNG. An existing page file is
        not rewritten unless damaged on disk, and ``created`` is False for it either way.

        Raises:
            ImageError: the file is missing, unreadable or not a valid image.
            OSError: the page file cannot be written.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
        from digitpad.imageio import load_image

        if data.startswith(PNG_SIGNATURE):
            rgb = _decode_png(data, path.name)
        else:
            rgb = load_image(path)
            data = encode_png(rgb)
        page_hash = sha256_hex(data)
        height, width = rgb.shape[:2]
        created = self._put(page_hash, data)
        return StoredFile(page_hash, pixel_hash(rgb), width, height, created)

    def holds(self, page_hash: str) -> bool:
        """Whether the page file of ``page_hash`` is there with its bytes whole."""
        return _holds(self.path_for(page_hash), page_hash)

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

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writers' lock shared (see ``WRITERS_LOCK``) from the first page file put to
        the commit of the rows that name them. Writers do not wait for each other; they wait
        only while a failed import removes its files. Never raises (see :meth:`_lock`)."""
        with self._lock(exclusive=False):
            yield

    def discard_unreferenced(
        self, hashes: Iterable[str], referenced: Callable[[list[str]], set[str]]
    ) -> None:
        """Remove the page files of ``hashes`` that ``referenced`` (which looks them up in the
        store) says no committed row names, unless some writer is between its page files and
        its commit: then all are kept (an unreferenced file is harmless, a lost page is not).
        Call outside :meth:`writing`.

        Raises:
            whatever ``referenced`` raises (the store's StoreError), and OSError when a file
            cannot be removed.
        """
        wanted = list(dict.fromkeys(hashes))
        if not wanted:
            return
        with self._lock(exclusive=True) as held:
            if not held:
                return
            named = referenced(wanted)
            for page_hash in wanted:
                if page_hash not in named:
                    self.path_for(page_hash).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[bool]:
        """The writers' lock, shared (waited for) or exclusive (not waited for); yields whether
        it is held. Where there are no advisory locks (Windows; a file system without them,
        such as NFS with no lock daemon), writers are not serialised: shared counts as held,
        exclusive as not, so nothing is removed and nobody is kept from saving. Never raises."""
        try:
            import fcntl
        except ImportError:
            yield not exclusive
            return
        try:
            self.root.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.root.parent / WRITERS_LOCK, "a+b")  # noqa: SIM115 - closed below
        except OSError:  # the folder cannot be written: the writer will say so itself
            yield not exclusive
            return
        with lock:
            mode = fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH
            try:
                fcntl.flock(lock.fileno(), mode)
                held = True
            except BlockingIOError:
                held = False
            except OSError:  # ENOLCK, EOPNOTSUPP: no advisory locks here
                held = not exclusive
            yield held  # the lock goes with the file's closing

    def _put(self, page_hash: str, data: bytes) -> bool:
        """Write ``data`` as the page file of ``page_hash`` unless it is there already; whether
        it was made. A file there whose bytes no longer match (damaged on disk) is written again
        from ``data``, which are the page's bytes: it was the file of committed rows, not one
        this call made."""
        dest = self.path_for(page_hash)
        # a file found there may be another process's, renamed in but its folder not yet
        # fsynced: the rows this writer commits must not outlive it, so the folder is synced
        self._unsynced_dir = True
        if dest.is_file():
            if not self.holds(page_hash):
                atomic_write_bytes(dest, data)
            return False
        atomic_write_bytes(dest, data)
        return True


def _holds(path: Path, page_hash: str) -> bool:
    """Whether the file at ``path`` holds the bytes of ``page_hash`` (False when unreadable);
    read in pieces, whatever size damage left it."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == page_hash
    except OSError:
        return False


def _decode_png(data: bytes, name: str) -> np.ndarray:
    """The upright RGB pixels of PNG bytes, refusing a damaged file: a chunk whose CRC fails,
    no end chunk, image data that stops short or holds fewer rows than the header declares, a
    row with no known filter. So a damaged file is refused at import time, not when a retrain
    or an export reads it.

    Raises:
        ImageError: the bytes are no PNG digitpad can read, in one line naming ``name``.
    """
    from PIL import Image

    from digitpad.imageio import check_size, decode_sized

    if data[12:16] == b"IHDR" and len(data) >= 24:
        # before PIL opens it: PIL warns (several lines) about a bomb where it does not raise
        check_size(name, (int.from_bytes(data[16:20]), int.from_bytes(data[20:24])))
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()  # every chunk's CRC, those after the image data too
    except Exception as exc:  # PIL raises many types for a corrupt file
        raise ImageError(f"{name}: damaged PNG ({exc})") from None
    try:
        # Pillow (13, as pinned) refuses image data that stops short, holds fewer rows or has
        # a row with no known filter; tests/test_store_png_check.py holds it to that
        return decode_sized(data, name)
    except ImageError:
        _image_data_whole(data, name)  # says which of those it is, in our words
        raise


# (x0, y0, dx, dy) of the seven passes of an Adam7-interlaced PNG
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type
_INFLATE_STEP = 1 << 22  # bytes of image data inflated at a time (a 100 MP page is 300 MB)


def _image_data_whole(data: bytes, name: str) -> bool:
    """Whether the image data of a PNG that passed ``verify()`` is whole: its zlib stream
    inflates without error to every row the header declares, each row with a known filter.

    Run once decoding has failed, to say in our words what is wrong (PIL says "unrecognized
    data stream contents"): only inflating, no unfiltering or unpacking. False when the file is
    laid out in a way this does not look at (anything but the end chunk after the image data:
    an animation, text chunks that PIL reads only when decoding).

    Raises:
        ImageError: the image data stops short, is corrupt, or has a row with no known filter.
    """
    view = memoryview(data)
    chunks: list[tuple[bytes, int, int]] = []  # (type, start of its data, length)
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(view[pos : pos + 4])
        kind = bytes(view[pos + 4 : pos + 8])
        chunks.append((kind, pos + 8, length))
        if kind == b"IEND":
            break
        pos += 12 + length
    kinds = [kind for kind, _, _ in chunks]
    if not kinds or kinds[0] != b"IHDR" or b"IDAT" not in kinds:
        return False
    first = kinds.index(b"IDAT")
    end = first
    while end < len(kinds) and kinds[end] == b"IDAT":
        end += 1
    if kinds[end:] != [b"IEND"]:
        return False
    _, at, _ = chunks[0]
    width, height = int.from_bytes(view[at : at + 4]), int.from_bytes(view[at + 4 : at + 8])
    depth, colour, _, _, interlace = view[at + 8 : at + 13]
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16) or interlace not in (0, 1):
        return False
    bits = _CHANNELS[colour] * depth
    rows: list[tuple[int, int, int]] = []  # (offset, row bytes with the filter byte, row count)
    offset = 0
    for x0, y0, dx, dy in _ADAM7 if interlace else ((0, 0, 1, 1),):
        pass_w, pass_h = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if pass_w and pass_h:
            stride = 1 + (pass_w * bits + 7) // 8
            rows.append((offset, stride, pass_h))
            offset += stride * pass_h
    stream = b"".join(view[at : at + n] for _, at, n in chunks[first:end])
    inflate = zlib.decompressobj()
    done = 0
    while done < offset:
        try:
            # never more than the rows need: a small stream can inflate to gigabytes
            piece = inflate.decompress(stream, min(_INFLATE_STEP, offset - done))
        except zlib.error as exc:
            raise ImageError(f"{name}: damaged PNG (its image data is corrupt: {exc})") from None
        stream = inflate.unconsumed_tail
        if not piece:
            raise ImageError(
                f"{name}: damaged PNG (image file is truncated: its image data stops after "
                f"{done:,} of {offset:,} bytes)"
            )
        _check_filters(np.frombuffer(piece, np.uint8), done, rows, name)
        done += len(piece)
    return True


def _check_filters(
    piece: np.ndarray, start: int, rows: list[tuple[int, int, int]], name: str
) -> None:
    """Refuse a row of ``piece`` (the inflated image data from ``start``) whose filter byte
    (its first) is none of PNG's five: decoding stops there."""
    stop = start + len(piece)
    for offset, stride, count in rows:
        lo, hi = max(start, offset), min(stop, offset + stride * count)
        if lo >= hi:
            continue
        first = offset + -(-(lo - offset) // stride) * stride  # the first row start >= lo
        if first < hi and int(piece[first - start : hi - start : stride].max()) > 4:
            raise ImageError(f"{name}: damaged PNG (a row of its image data has no known filter)")
