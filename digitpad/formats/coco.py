"""COCO object-detection JSON: ``<out_dir>/annotations.json`` + ``<out_dir>/images/``.

Categories are fixed: id 1..10 named "0".."9", id 11 "not_digit" (id = CLASSES index + 1).
``bbox`` is ``[x, y, width, height]`` in pixels. Our extra per-annotation fields live under
``"attributes"`` (kind, touching), which COCO tools ignore.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any

from digitpad.errors import ImportFormatError
from digitpad.formats.base import (
    LabelledImage,
    atomic_write_text,
    check_box_inside,
    check_label,
    check_unique_names,
    image_size,
    place_image,
    printable,
)
from digitpad.types import CLASSES, NOT_DIGIT, Annotation, Box

ANNOTATIONS_NAME = "annotations.json"
CATEGORIES: tuple[dict[str, Any], ...] = tuple(
    {"id": i + 1, "name": name, "supercategory": "digit" if name != NOT_DIGIT else "other"}
    for i, name in enumerate(CLASSES)
)
# Pixels a float box may stick out of the image before we call it outside (rounding in tools).
_SLACK = 1.0
# Sizes and coordinates are compared as floats; a JSON integer beyond this has no exact float
# (and past 1e308 none at all), so it is refused as out of range before any arithmetic.
_MAX_NUMBER = 2**53


def write_coco(images: Iterable[LabelledImage], out_dir: Path) -> Path:
    """Write ``images`` as a COCO dataset under ``out_dir`` and return the annotations JSON path.

    Raises:
        ImageError: a source image cannot be read.
        DigitpadError: an image's ``read`` refuses (a store page missing or damaged).
        ValueError: two images would get the same file name.
        OSError: a file cannot be written.
    """
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    doc_images: list[dict[str, Any]] = []
    doc_anns: list[dict[str, Any]] = []
    for image_id, item in enumerate(check_unique_names(images), start=1):
        place_image(item, images_dir)
        entry = {"id": image_id, "file_name": item.file_name}
        doc_images.append({**entry, "width": item.width, "height": item.height})
        for ann in item.annotations:
            doc_anns.append(_annotation_entry(len(doc_anns) + 1, image_id, ann))
    doc = {
        "info": {"description": "digitpad dataset", "version": "1.0"},
        "licenses": [],
        "images": doc_images,
        "annotations": doc_anns,
        "categories": list(CATEGORIES),
    }
    path = out_dir / ANNOTATIONS_NAME
    atomic_write_text(path, json.dumps(doc, separators=(",", ":")))
    return path


def _annotation_entry(ann_id: int, image_id: int, ann: Annotation) -> dict[str, Any]:
    b = ann.box
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": CLASSES.index(check_label(ann.label, f"annotation {ann_id}")) + 1,
        "bbox": [b.x0, b.y0, b.width, b.height],
        "area": b.area,
        "iscrowd": 0,
        "segmentation": [[b.x0, b.y0, b.x1, b.y0, b.x1, b.y1, b.x0, b.y1]],
        "attributes": {"kind": ann.kind, "touching": ann.touching},
    }


def read_coco(path: Path) -> list[LabelledImage]:
    """Read a COCO dataset (the JSON file, or a folder holding ``annotations.json``).

    Image files are looked up next to the JSON, in ``images/`` beside it, or in ``../images/``.

    Raises:
        ImportFormatError: broken JSON, a schema violation, a missing image file, a file_name
            that is absolute or climbs out of the dataset with "..", two images naming one file,
            a box outside its image, a crowd region (``iscrowd``), or a category that is not a
            digit or "not_digit"; the message names the file and the entry.
    """
    json_path = _find_json(Path(path))
    name = printable(json_path.name)
    doc = _load_json(json_path)
    problems = coco_schema_errors(doc, strict=False)
    if problems:
        raise ImportFormatError(f"{name}: {problems[0]}")
    labels = _category_labels(doc["categories"])
    by_image: dict[int, list[Annotation]] = {img["id"]: [] for img in doc["images"]}
    sizes = {img["id"]: (img["width"], img["height"]) for img in doc["images"]}
    for index, ann in enumerate(doc["annotations"]):
        where = f"{name}: annotation id {ann['id']} (entry {index})"
        if ann["image_id"] not in by_image:
            raise ImportFormatError(f"{where}: image_id {ann['image_id']} is not in images")
        by_image[ann["image_id"]].append(_annotation(ann, labels, sizes[ann["image_id"]], where))
    out: list[LabelledImage] = []
    named: dict[Path, int] = {}  # resolved image file -> the entry that named it first
    for i, img in enumerate(doc["images"]):
        item = _image_entry(json_path, img, i, by_image[img["id"]])
        first = named.setdefault(Path(item.path).resolve(), i)
        if first != i:
            # each entry has its own boxes: importing the file once would drop one entry's
            raise ImportFormatError(
                printable(
                    f"{name}: image id {img['id']} (entry {i}, {img['file_name']}) names the "
                    f"same file as image id {doc['images'][first]['id']} (entry {first}): give "
                    "each image one entry, with all its annotations"
                )
            )
        out.append(item)
    return out


def _load_json(json_path: Path) -> Any:
    name = printable(json_path.name)
    try:
        # "utf-8-sig": files saved by Windows tools often begin with a byte order mark
        return json.loads(json_path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{name}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{name}: broken JSON at line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:
        # Python refuses to parse an integer of more than 4300 digits (a guard against slow
        # int conversion); its message ends with advice for programmers, which we drop.
        reason = str(exc).split(";")[0]
        raise ImportFormatError(f"{name}: unreadable JSON ({reason})") from None
    except RecursionError:
        raise ImportFormatError(f"{name}: unreadable JSON (nested too deeply)") from None


def _annotation(
    ann: dict[str, Any], labels: dict[int, str], size: tuple[int, int], where: str
) -> Annotation:
    """One COCO annotation (already schema-checked) as an Annotation; errors name ``where``."""
    label = labels.get(ann["category_id"])
    if label is None:
        raise ImportFormatError(
            f"{where}: category_id {ann['category_id']} is not a digit 0-9 or {NOT_DIGIT!r}"
        )
    if ann.get("iscrowd") not in (None, 0, False):
        # a crowd region boxes many objects at once (what COCO's evaluation ignores): taken as
        # one digit, it would teach the classifier a box of several
        raise ImportFormatError(
            f"{where}: iscrowd regions hold many objects in one box, not a digit each "
            "(remove them, or give each digit its own box)"
        )
    box = _bbox_to_box(ann["bbox"], size[0], size[1], where)
    attrs = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
    kind = attrs.get("kind", "digit" if label != NOT_DIGIT else "other")
    touching = attrs.get("touching", False)
    if not isinstance(kind, str) or not kind.strip():
        raise ImportFormatError(f"{where}: attributes.kind must be a word, got {kind!r:.40}")
    # bool("no") is True: only JSON's own booleans (or 0 and 1, as some tools write them) say
    # which it is, and a mark wrongly flagged touching skews what the touching subset reports
    if touching not in (True, False) or isinstance(touching, float):
        raise ImportFormatError(
            f"{where}: attributes.touching must be true or false, got {touching!r:.40}"
        )
    return Annotation(box, label, kind=kind.strip(), touching=bool(touching))


def _find_json(path: Path) -> Path:
    if path.is_dir():
        candidate = path / ANNOTATIONS_NAME
        if candidate.is_file():
            return candidate
        found = sorted(path.glob("*.json")) or sorted(path.glob("annotations/*.json"))
        if len(found) == 1:
            return found[0]
        raise ImportFormatError(
            f"{printable(path.name)}: expected {ANNOTATIONS_NAME} (or exactly one .json file) "
            "in the folder"
        )
    if not path.is_file():
        raise ImportFormatError(f"{printable(path.name)}: no such file")
    return path


def _category_labels(categories: list[dict[str, Any]]) -> dict[int, str]:
    """category id -> our label, for the categories whose name is one of CLASSES."""
    return {c["id"]: str(c["name"]) for c in categories if str(c["name"]) in CLASSES}


def _bbox_to_box(bbox: list[float], width: int, height: int, where: str) -> Box:
    x, y, w, h = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ImportFormatError(f"{where}: bbox {bbox} is not finite")
    if x < -_SLACK or y < -_SLACK or x + w > width + _SLACK or y + h > height + _SLACK:
        raise ImportFormatError(f"{where}: bbox {bbox} is outside the {width}x{height} image")
    box = Box(_lo(x), _lo(y), _hi(x + w), _hi(y + h)).clip(width, height)
    return check_box_inside(box, width, height, where)


def _lo(v: float) -> int:
    r = round(v)
    return int(r) if abs(v - r) < 1e-3 else math.floor(v)


def _hi(v: float) -> int:
    r = round(v)
    return int(r) if abs(v - r) < 1e-3 else math.ceil(v)


def _image_entry(
    json_path: Path, img: dict[str, Any], index: int, anns: list[Annotation]
) -> LabelledImage:
    where = printable(f"{json_path.name}: image id {img['id']} (entry {index}, {img['file_name']})")
    base = json_path.parent
    if not _stays_inside(img["file_name"]):
        raise ImportFormatError(
            f"{where}: file_name must be a path inside the dataset's folder, not absolute or "
            "climbing out of it with '..'"
        )
    rel = Path(img["file_name"])
    candidates = [base / rel, base / "images" / rel, base.parent / "images" / rel]
    path = next((p for p in candidates if p.is_file()), candidates[0])
    width, height = image_size(path, where)
    if (width, height) != (img["width"], img["height"]):
        raise ImportFormatError(
            f"{where}: the file is {width}x{height}, the JSON says {img['width']}x{img['height']}"
        )
    return LabelledImage(path=path, width=width, height=height, annotations=tuple(anns))


def _stays_inside(file_name: str) -> bool:
    """Whether ``file_name`` is a relative path that no ".." takes above the folder it is
    looked up in (a dataset must not make the import read files elsewhere on the machine)."""
    if PurePath(file_name).anchor:  # "/etc/x", and on Windows "C:x" and "\\server\x" too
        return False
    parts = PurePath(os.path.normpath(file_name)).parts
    return not parts or parts[0] != ".."


_REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    "images": {"id": (int,), "file_name": (str,), "width": (int,), "height": (int,)},
    "annotations": {
        "id": (int,),
        "image_id": (int,),
        "category_id": (int,),
        "bbox": (list,),
    },
    "categories": {"id": (int,), "name": (str,)},
}
# Fields standard tools (pycocotools, CVAT, FiftyOne) expect in a file we write.
_STRICT_EXTRA: dict[str, dict[str, tuple[type, ...]]] = {
    "annotations": {"area": (int, float), "iscrowd": (int,), "segmentation": (list, dict)},
    "categories": {"supercategory": (str,)},
}


def coco_schema_errors(doc: Any, *, strict: bool = True) -> list[str]:
    """Every way ``doc`` breaks the COCO detection schema, first problem first ([] if valid).

    Checks the top-level lists, required fields and their JSON types, bbox shape (4 numbers,
    non-negative width/height), that sizes and bbox integers fit a float exactly, unique ids,
    and that annotations point at known images and categories. ``strict`` also requires the
    fields standard tools expect (area, iscrowd, segmentation, supercategory) - use it to
    validate what we export.
    """
    if not isinstance(doc, dict):
        return ["the top level is not a JSON object"]
    errors: list[str] = []
    for key, fields in _REQUIRED.items():
        entries = doc.get(key)
        if not isinstance(entries, list):
            errors.append(f"missing list {key!r}")
            continue
        need = dict(fields)
        if strict:
            need.update(_STRICT_EXTRA.get(key, {}))
        errors.extend(_entry_errors(key, entries, need))
    if errors:
        return errors
    errors.extend(_reference_errors(doc))
    return errors


def _entry_errors(key: str, entries: list[Any], need: dict[str, tuple[type, ...]]) -> list[str]:
    errors: list[str] = []
    ids: set[Any] = set()
    for index, entry in enumerate(entries):
        label = f"{key} entry {index}"
        if not isinstance(entry, dict):
            errors.append(f"{label} is not an object")
            continue
        for fname, types in need.items():
            value = entry.get(fname)
            # bool is an int in Python but not a valid COCO id or size.
            if value is None or isinstance(value, bool) or not isinstance(value, types):
                names = "/".join(t.__name__ for t in types)
                errors.append(f"{label}: field {fname!r} missing or not {names}")
            elif fname in ("width", "height") and value > _MAX_NUMBER:
                errors.append(f"{label}: field {fname!r} is out of range")
        entry_id = entry.get("id")
        # Only a well-typed id takes part: a list or dict id is already reported above and
        # cannot go into a set.
        if isinstance(entry_id, int) and not isinstance(entry_id, bool):
            if entry_id in ids:
                errors.append(f"{label}: duplicate id {entry_id}")
            ids.add(entry_id)
        if key == "annotations" and isinstance(entry.get("bbox"), list):
            errors.extend(_bbox_errors(label, entry["bbox"]))
        if key == "images" and _non_positive_size(entry):
            errors.append(f"{label}: width and height must be positive")
    return errors


def _non_positive_size(entry: dict[str, Any]) -> bool:
    w, h = entry.get("width"), entry.get("height")
    return isinstance(w, int) and isinstance(h, int) and (w <= 0 or h <= 0)


def _bbox_errors(label: str, bbox: list[Any]) -> list[str]:
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)
    if len(bbox) != 4 or not numeric:
        return [f"{label}: bbox must be 4 numbers [x, y, width, height], got {bbox}"]
    if any(abs(v) > _MAX_NUMBER for v in bbox if isinstance(v, int)):
        return [f"{label}: bbox has a number out of range"]
    if bbox[2] < 0 or bbox[3] < 0:
        return [f"{label}: bbox {bbox} has a negative width or height"]
    return []


def _reference_errors(doc: dict[str, Any]) -> list[str]:
    image_ids = {img["id"] for img in doc["images"]}
    cat_ids = {c["id"] for c in doc["categories"]}
    errors = []
    for index, ann in enumerate(doc["annotations"]):
        if ann["image_id"] not in image_ids:
            errors.append(f"annotations entry {index}: image_id {ann['image_id']} is unknown")
        if ann["category_id"] not in cat_ids:
            errors.append(f"annotations entry {index}: category_id {ann['category_id']} is unknown")
    return errors
