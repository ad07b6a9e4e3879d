"""One folder of crops per label: ``<dir>/0/*.png`` .. ``<dir>/9/``, ``<dir>/not_digit/``.

The format classification tools (Keras ``image_dataset_from_directory``, torchvision
``ImageFolder``) read. Writing crops each box out of its page; reading gives one
:class:`LabelledImage` per crop whose single annotation covers the whole crop.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from digitpad import fsutil
from digitpad.errors import ImportFormatError
from digitpad.formats.base import (
    LabelledImage,
    check_label,
    image_size,
    is_image_file,
    png_bytes,
    printable,
)
from digitpad.types import CLASSES, NOT_DIGIT, Annotation, Box


def write_folders(images: Iterable[LabelledImage], out_dir: Path) -> Path:
    """Write every annotation of ``images`` as a PNG crop under ``out_dir/<label>/``.

    Crops are named ``<image stem>_<index>.png``. Returns ``out_dir``.

    Raises:
        ImageError: a source image cannot be read.
        DigitpadError: ``read`` refuses (a store page missing or damaged).
        OSError: a file cannot be written.
    """
    from digitpad.imageio import decode_image, load_image

    out_dir = Path(out_dir)
    for label in CLASSES:
        (out_dir / label).mkdir(parents=True, exist_ok=True)
    for item in images:
        if not item.annotations:
            continue
        if item.pixels is not None:
            rgb = item.pixels
        elif item.read is not None:  # crop the very bytes that were checked
            rgb = decode_image(item.read(), printable(Path(item.path).name))
        else:
            rgb = load_image(item.path)
        stem = Path(item.file_name).stem
        for index, ann in enumerate(item.annotations):
            b = ann.box.clip(rgb.shape[1], rgb.shape[0])
            if b.area == 0:
                continue
            crop = np.ascontiguousarray(rgb[b.y0 : b.y1, b.x0 : b.x1])
            dest = out_dir / check_label(ann.label, item.file_name) / f"{stem}_{index:03d}.png"
            fsutil.atomic_write_bytes(dest, png_bytes(crop), sync=False, sync_dir=False)
    return out_dir


def read_folders(path: Path) -> list[LabelledImage]:
    """Read crops from ``path/<label>/``; each becomes an image with one whole-image box.

    Hidden entries are ignored. Files directly under ``path`` are ignored too (a README, a
    manifest).

    Raises:
        ImportFormatError: ``path`` is not a folder, a sub-folder is not named after a digit or
            "not_digit", a file in a label folder is not an image, or there are no crops at all.
    """
    root = Path(path)
    if not root.is_dir():
        raise ImportFormatError(f"{printable(root.name)}: not a folder of label folders")
    out: list[LabelledImage] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = check_label(folder.name, printable(f"{root.name}/{folder.name}"))
        for file in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
            where = printable(f"{folder.name}/{file.name}")
            if not is_image_file(file):
                raise ImportFormatError(f"{where}: not an image file")
            width, height = image_size(file, where)
            kind = "digit" if label != NOT_DIGIT else "other"
            ann = Annotation(Box(0, 0, width, height), label, kind=kind)
            out.append(LabelledImage(path=file, width=width, height=height, annotations=(ann,)))
    if not out:
        raise ImportFormatError(
            f"{printable(root.name)}: no crops found in label folders 0-9/{NOT_DIGIT}"
        )
    return out
