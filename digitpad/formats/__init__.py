"""Dataset file formats other tools speak: COCO, YOLO and one folder of crops per label.

Pure files, no SQLite: :mod:`digitpad.interop` moves data between these and the store.
Readers validate everything and raise :class:`~digitpad.errors.ImportFormatError` naming the
file and the entry; writers write label files atomically.
"""

from __future__ import annotations

from digitpad.formats.base import LabelledImage
from digitpad.formats.coco import coco_schema_errors, read_coco, write_coco
from digitpad.formats.folders import read_folders, write_folders
from digitpad.formats.yolo import read_yolo, write_yolo

FORMATS: tuple[str, ...] = ("coco", "yolo", "folders")

__all__ = [
    "FORMATS",
    "LabelledImage",
    "coco_schema_errors",
    "read_coco",
    "read_folders",
    "read_yolo",
    "write_coco",
    "write_folders",
    "write_yolo",
]
