"""Import and export between the correction store and COCO / YOLO / folders datasets.

Import is all or nothing: the whole dataset is read and validated first, page files are added,
then every page goes in ONE transaction; on any error the page files this import created (and no
committed row references) are removed again. A page already imported (same pixels) is kept as
it was, so importing a dataset twice adds nothing, and the report says how many were; only a
page imported before without any box (a YOLO image whose label file was missing then), which
nobody has reviewed since, gets the boxes the dataset has now. Two pages of one dataset with
the same pixels but different boxes are refused: one set would be lost.

Imported boxes are ground truth without a prediction: they are stored as outcome "added" in a
review of kind "import" with no model version. They never count for live accuracy (the model
made no prediction, so they would be neither right nor missed) but they are training samples.

Export writes each page's current boxes (its latest review; deleted predictions as not_digit)
into a temporary folder next to DEST and renames it into place, so DEST is complete or absent.
Each page file is checked against its hash as it is copied: a damaged page stops the export.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from digitpad.errors import ImageError, ImportFormatError, StoreError, UsageError
from digitpad.formats import (
    FORMATS,
    LabelledImage,
    read_coco,
    read_folders,
    read_yolo,
    write_coco,
    write_folders,
    write_yolo,
)
from digitpad.formats.base import printable
from digitpad.store import CorrectionStore, ImportedPage, PageTruth

_READERS: dict[str, Callable[[Path], list[LabelledImage]]] = {
    "coco": read_coco,
    "yolo": read_yolo,
    "folders": read_folders,
}
# Threads that check and store an import's page files at once: inflating each PNG's image data
# to check it is most of an import's time, and zlib, hashing and file writes let go of the GIL.
IMPORT_THREADS = 4

_WRITERS: dict[str, Callable[[Sequence[LabelledImage], Path], Path]] = {
    "coco": write_coco,
    "yolo": write_yolo,
    "folders": write_folders,
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    pages_added: int
    pages_skipped: int  # already in the store, kept exactly as they were
    boxes_added: int  # to new pages and to labelled ones
    pages_labelled: int = 0  # imported before without boxes, and given the dataset's now
    pages_repeated: int = 0  # the same pixels (and boxes) as a page before it in the dataset


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: ``path`` is the annotations file, yaml or folder."""

    pages: int
    boxes: int
    path: Path


def guess_format(src: Path) -> str:
    """The dataset format of ``src`` by its layout.

    Raises:
        UsageError: the layout matches none of the formats; pass --format.
    """
    src = Path(src)
    if src.suffix.lower() == ".json" or (src / "annotations.json").is_file():
        return "coco"
    if src.suffix.lower() in (".yaml", ".yml") or (src / "data.yaml").is_file():
        return "yolo"
    if (src / "images").is_dir() and (src / "labels").is_dir():
        return "yolo"
    if src.is_dir() and any((src / d).is_dir() for d in ("0", "1", "2", "not_digit")):
        return "folders"
    raise UsageError(f"cannot tell the format of {src.name}; pass --format coco|yolo|folders")


def import_dataset(store: CorrectionStore, src: Path, fmt: str) -> ImportReport:
    """Import the dataset at ``src`` (format ``fmt``) into ``store``, all or nothing.

    Raises:
        ImportFormatError: the dataset is malformed (the message names the file and entry);
            nothing of it is kept.
        StoreError: the store cannot be written; nothing of the import is kept.
    """
    items = _reader(fmt)(Path(src))  # validates everything before anything is written
    store.learn_pixels()  # a page stored before schema 4 is found by its pixels too
    created: list[str] = []
    try:
        with store.pages.writing():
            pages = _add_page_files(store, items, fmt, created)
            _check_repeats(pages)
            counts = store.add_imported(pages)
    finally:
        # after a failure, every file this import made; after success, those of pages the
        # store holds in another file already (the same pixels, other bytes)
        store.discard_unnamed_files(created)
    return ImportReport(counts.added, counts.kept, counts.boxes, counts.labelled, counts.repeated)


def _check_repeats(pages: list[ImportedPage]) -> None:
    """Refuse two pages with the same pixels and different boxes (each is imported once).

    Raises:
        ImportFormatError: naming both files.
    """
    first: dict[str, ImportedPage] = {}
    for page in pages:
        earlier = first.setdefault(page.pixels, page)
        if earlier is not page and _box_set(earlier) != _box_set(page):
            raise ImportFormatError(
                f"{page.origin}: the same image as {earlier.origin} with other boxes; "
                "one page cannot keep both (remove one, or give both the same boxes)"
            )


def _box_set(page: ImportedPage) -> list[tuple[object, ...]]:
    return sorted((a.box.as_tuple(), a.label, a.kind, a.touching) for a in page.annotations)


def _add_page_files(
    store: CorrectionStore, items: list[LabelledImage], fmt: str, created: list[str]
) -> list[ImportedPage]:
    """Check and store every item's page file, a few at a time; the pages in ``items`` order.

    The error raised is the first item's in that order, as if they were stored one by one, and
    only once no thread is still storing: every file made is in ``created`` by then.
    """
    workers = min(IMPORT_THREADS, os.cpu_count() or 1, len(items))
    if workers <= 1:
        return [_add_page_file(store, item, fmt, created) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="import") as pool:
        futures = [pool.submit(_add_page_file, store, item, fmt, created) for item in items]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()  # after an error: those not started are not needed


def _add_page_file(
    store: CorrectionStore, item: LabelledImage, fmt: str, created: list[str]
) -> ImportedPage:
    path = Path(item.path)
    origin = printable(f"{path.parent.name}/{path.name}" if fmt == "folders" else path.name)
    try:
        stored = store.pages.put_file(path)
    except ImageError as exc:
        reason = str(exc).removeprefix(f"{path.name}: ")  # the origin names the file already
        raise ImportFormatError(f"{origin}: {reason}") from None
    except OSError as exc:  # the pages folder cannot be made or written (a file in its place)
        raise StoreError(
            f"cannot write page files to {store.pages.root}: {exc.strerror or exc}"
        ) from None
    if stored.created:
        created.append(stored.page_hash)
    width, height = stored.width, stored.height
    if (width, height) != (item.width, item.height):
        raise ImportFormatError(
            f"{origin}: decoded as {width}x{height}, the dataset says {item.width}x{item.height}"
        )
    return ImportedPage(stored.page_hash, stored.pixels, width, height, item.annotations, origin)


def export_dataset(store: CorrectionStore, dest: Path, fmt: str) -> ExportReport:
    """Write every page's current boxes to ``dest`` as a ``fmt`` dataset.

    Every page file is checked against the hash it was saved under as it is written. The new
    folder gets the permissions a plain mkdir gives (an existing empty ``dest`` keeps its own).
    On any failure ``dest`` is as it was and nothing else is left behind: no temporary folder,
    no parent folder this export created.

    Raises:
        UsageError: ``dest`` exists and is not an empty folder, is a symbolic link, or cannot
            be written (a file where a parent folder should be, a name too long, no permission,
            a full disk...).
        StoreError: a page file is missing, unreadable or damaged (its bytes no longer match
            their hash); nothing is exported.
    """
    writer = _writer(fmt)
    target = Path(os.path.abspath(dest))  # "." and "x/.." have no name to build a sibling from
    try:
        kept_mode = _check_dest(target)
    except OSError as exc:  # a name too long to even look up
        raise UsageError(f"cannot export to {dest}: {exc.strerror or exc}") from None
    truths = store.page_truths()
    items = _labelled(store, truths)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        try:
            _make_folders(target.parent, created)
            tmp = _make_temp_folder(target)
            written = writer(items, tmp)
            if kept_mode is not None:
                os.chmod(tmp, kept_mode)
            _move_into_place(tmp, target, replacing=kept_mode is not None)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
    except OSError as exc:
        raise UsageError(f"cannot export to {dest}: {exc.strerror or exc}") from None
    except ImageError as exc:
        raise StoreError(f"nothing exported: page file {exc}") from None
    path = Path(dest) / written.relative_to(tmp) if written != tmp else Path(dest)
    boxes = sum(len(t.annotations) for t in truths)
    return ExportReport(len(truths), boxes, path)


def _check_dest(dest: Path) -> int | None:
    """None when ``dest`` is free; the permission bits of ``dest`` when it is an empty folder.

    Raises:
        UsageError: ``dest`` is a symbolic link (renaming onto it would not write where it
            points) or exists and is not an empty folder.
        OSError: ``dest`` cannot be looked up.
    """
    if dest.is_symlink():
        raise UsageError(f"{dest} is a symbolic link; export into a new folder")
    if not dest.exists():
        return None
    if not dest.is_dir() or any(dest.iterdir()):
        raise UsageError(f"{dest} already exists and is not empty; export into a new folder")
    return stat.S_IMODE(dest.stat().st_mode)


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, appending each one made to ``created``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _make_temp_folder(dest: Path) -> Path:
    """A new hidden folder beside ``dest`` (made by mkdir, so the umask sets its permissions,
    unlike mkdtemp's private 0700). Its name takes at most 32 characters of ``dest``'s, so any
    ``dest`` whose own name is legal gets a legal sibling."""
    for _ in range(16):
        tmp = dest.with_name(f".{dest.name[:32]}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.mkdir()
        except FileExistsError:
            continue  # 32 random bits collided: pick another name
        return tmp
    raise FileExistsError(f"cannot make a temporary folder beside {dest}")


def _move_into_place(tmp: Path, dest: Path, *, replacing: bool) -> None:
    """Rename ``tmp`` to ``dest``: POSIX replaces an empty folder in one atomic rename."""
    try:
        os.replace(tmp, dest)
    except OSError:
        if not replacing or os.name != "nt":
            raise
        dest.rmdir()  # Windows cannot rename over a folder, even an empty one
        os.replace(tmp, dest)


def _labelled(store: CorrectionStore, truths: list[PageTruth]) -> list[LabelledImage]:
    """Pages as LabelledImages named after their original file when that name is unique and
    not hidden (a name starting with "." is skipped by dataset readers, ours included)."""
    stems = [_visible_stem(t.origin) for t in truths]
    counts: dict[str | None, int] = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    items = []
    for truth, stem in zip(truths, stems, strict=True):
        path = store.pages.path_for(truth.page_hash)
        if not path.is_file():
            raise StoreError(f"page {truth.page_hash[:12]} is missing from {store.pages.root}")
        unique = stem is not None and counts[stem] == 1
        name = f"{stem if unique else truth.page_hash[:16]}.png"  # stored pages are PNG
        items.append(
            LabelledImage(
                path,
                truth.width,
                truth.height,
                truth.annotations,
                name=name,
                read=partial(store.pages.read_bytes, truth.page_hash),
            )
        )
    return items


def _visible_stem(origin: str | None) -> str | None:
    """The stem of a page's original file name, or None when it has none or it is hidden."""
    stem = Path(origin).stem if origin else ""
    return stem if stem and not stem.startswith(".") else None


def _reader(fmt: str) -> Callable[[Path], list[LabelledImage]]:
    if fmt not in _READERS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _READERS[fmt]


def _writer(fmt: str) -> Callable[[Sequence[LabelledImage], Path], Path]:
    if fmt not in _WRITERS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _WRITERS[fmt]
